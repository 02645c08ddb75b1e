// Catch2 v2 (Debian 12) provides main() through this define in exactly one TU.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
