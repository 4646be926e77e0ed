import { useRef } from "react";

/** A ref that always holds the latest value: callbacks stay current without re-running effects. */
export function useLatest<T>(value: T) {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}
