#!/usr/bin/env bash
# Install into a temporary prefix and consume the library the three documented ways:
# pkg-config, find_package(libthumb) -> libthumb::thumb, and the static library. Also checks
# the ABI surface: SONAME libthumb.so.1 and no exported symbol outside thumb_*.
set -euo pipefail
build_dir=$1
src_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
lib=$(find "$tmp/prefix" -name 'libthumb.so.1' | head -n1)
[ -n "$lib" ] || { echo "FAIL: libthumb.so.1 not installed"; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libthumb.so.1" ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v -e '^thumb_' -e '^THUMB_1\.0$' || true)
[ -z "$bad" ] || { echo "FAIL: exported symbols outside thumb_*: $bad"; exit 1; }
[ "$(nm -D --defined-only "$lib" | grep -c ' T thumb_')" -ge 20 ] || { echo "FAIL: too few thumb_* symbols"; exit 1; }

cat > "$tmp/app.c" <<'C'
#include <thumb.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    thumb_options o;
    thumb_options_init(&o);
    thumb_ctx *c = thumb_ctx_new();
    int ok = c && o.size == sizeof o && strcmp(thumb_version_string(), "1.0.0") == 0 &&
             thumb_version_number() == THUMB_VERSION_NUMBER && thumb_sniff("\x89PNG\r\n\x1a\n", 8) == THUMB_FORMAT_PNG;
    thumb_ctx_free(c);
    puts(ok ? "ok" : "bad");
    return ok ? 0 : 1;
}
C
libdir=$(dirname "$lib")
pcdir=$(find "$tmp/prefix" -name libthumb.pc -printf '%h\n' | head -n1)
# 1. pkg-config, shared
cc "$tmp/app.c" $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs libthumb) -Wl,-rpath,"$libdir" -o "$tmp/app_pc"
"$tmp/app_pc" | grep -qx ok || { echo "FAIL: pkg-config consumer"; exit 1; }
# 2. pkg-config, static
cc "$tmp/app.c" $(PKG_CONFIG_PATH=$pcdir pkg-config --static --cflags libthumb) "$libdir/libthumb.a" \
   $(PKG_CONFIG_PATH=$pcdir pkg-config --static --libs-only-l libthumb | sed 's/-lthumb//') -lpthread -o "$tmp/app_static"
"$tmp/app_static" | grep -qx ok || { echo "FAIL: static consumer"; exit 1; }
# 3. CMake package
mkdir "$tmp/cm"
cp "$tmp/app.c" "$tmp/cm/app.c"
cat > "$tmp/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(libthumb 1.0 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE libthumb::thumb)
CM
cmake -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm/build" >/dev/null
LD_LIBRARY_PATH=$libdir "$tmp/cm/build/app" | grep -qx ok || { echo "FAIL: CMake package consumer"; exit 1; }
echo "install: SONAME $soname, $(nm -D --defined-only "$lib" | grep -c ' T thumb_') exported thumb_* functions, pkg-config (shared, static) and find_package consumers ok"
