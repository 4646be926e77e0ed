// An encoded outgoing message (an Engine.IO packet's bytes), immutable and shared: a broadcast is
// encoded once and every recipient's send queue holds a reference to the same bytes.
#pragma once

#include <memory>
#include <string>

namespace fg::net {

using SharedMessage = std::shared_ptr<const std::string>;

}  // namespace fg::net
