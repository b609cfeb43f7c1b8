// boost_impl: the one translation unit that compiles Asio's and Beast's implementation
// (BOOST_*_SEPARATE_COMPILATION), so no other file pays for it.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
