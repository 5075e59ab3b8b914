// Included first in every helper source when it is built against musl (scripts/build-init-musl.js).
// The libstdc++ headers on the machine were configured for glibc: they test glibc's version
// and name glibc's locale type. Neither matters to the helper, which uses no locales or streams.
#pragma once
#define __GLIBC_PREREQ(major, minor) 0
#include <locale.h>
typedef locale_t __locale_t;
