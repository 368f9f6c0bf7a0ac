#!/usr/bin/env bash
# The architecture as a test: mapping/ does no I/O, allocates nothing of its own and knows no I/O
# library; hcproxy links no cryptography (OSCORE passes through, it is never decrypted here).
# Usage: boundary.sh SOURCE_ROOT MAPPING_LIBRARY
set -euo pipefail
src=$1 lib=$2
failed=0
fail() { echo "not ok - $1"; failed=1; }

# No I/O library header anywhere in mapping/.
if grep -n -E '#include *[<"](uv\.h|microhttpd\.h|coap3/|curl/|gnutls/|openssl/)' "$src"/mapping/*; then
    fail "mapping/ includes an I/O library header"
else
    echo "ok - mapping/ includes no I/O library header"
fi

# What the library's objects need from outside, by symbol: no allocation, no I/O, no clock.
forbidden='^(malloc|calloc|realloc|free|strdup|strndup|open|read|write|close|socket|send|sendto|recv|recvfrom|connect|bind|fopen|fread|fwrite|fprintf|printf|puts|fputs|time|clock_gettime|gettimeofday|getenv|getaddrinfo|syslog)$'
used=$(nm -u "$lib" | awk '{print $2}' | sort -u)
if bad=$(printf '%s\n' "$used" | grep -E "$forbidden"); then
    fail "mapping/ calls $(echo $bad)"
else
    echo "ok - mapping/ calls no allocator, I/O, clock or environment function"
fi

# No AEAD or key derivation in hcproxy's own code: it holds no OSCORE key.
if grep -n -i -E 'hkdf|aes[_-]?ccm|aead|gnutls_cipher|EVP_(Encrypt|Decrypt|PKEY)' \
        "$src"/proxy/*.[ch] "$src"/mapping/*.[ch] "$src"/mapping/*.def; then
    fail "proxy/ or mapping/ contains cryptography"
else
    echo "ok - proxy/ and mapping/ contain no AEAD or key derivation code"
fi
echo "1..3"
exit $failed
