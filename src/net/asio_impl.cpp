// The one translation unit that compiles Asio, Beast (BOOST_*_SEPARATE_COMPILATION elsewhere) and
// Boost.URL (header-only this way; Debian's libboost-url is then not needed).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/url/src.hpp>
