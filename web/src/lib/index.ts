// The hooks package: what a host application imports.
export * from "./events";
export { useFulfillmentWebSocket } from "./useFulfillmentWebSocket";
export type { FulfillmentOptions, FulfillmentState, GatewaySocket } from "./useFulfillmentWebSocket";
export { useAdminWebSocket } from "./useAdminWebSocket";
export type { GetToken } from "./tokenLifetime";
export type { AdminOptions, AdminState, AdminUpdate } from "./useAdminWebSocket";
