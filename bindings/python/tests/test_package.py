"""The installed package: versions, stubs, typed marker, a self-contained extension."""
import importlib.metadata
import pathlib
import re
import subprocess
import sys

import libthumb
from libthumb import _libthumb
from conftest import REPO


def test_versions():
    header = (REPO / "include" / "thumb.h").read_text()
    major, minor, patch = (re.search(rf"#define THUMB_VERSION_{k} (\d+)", header).group(1) for k in ("MAJOR", "MINOR", "PATCH"))
    assert libthumb.libthumb_version == f"{major}.{minor}.{patch}"
    assert libthumb.libthumb_version_number == int(major) * 10000 + int(minor) * 100 + int(patch)
    assert libthumb.__version__ == importlib.metadata.version("libthumb")
    assert libthumb.simd in ("avx2", "scalar")


def test_installed_not_from_the_source_tree():
    pkg = pathlib.Path(libthumb.__file__).parent
    assert "site-packages" in pkg.parts or "dist-packages" in pkg.parts, pkg
    for name in ("py.typed", "_libthumb.pyi", "__init__.py"):
        assert (pkg / name).is_file(), name


def test_extension_is_self_contained():
    """The core is linked in: the extension needs only system libraries (no LD_LIBRARY_PATH) and
    exports nothing but its init function."""
    so = pathlib.Path(_libthumb.__file__)
    ldd = subprocess.run(["ldd", str(so)], capture_output=True, text=True, check=True).stdout
    assert "not found" not in ldd and "libthumb.so" not in ldd
    for lib in ("libjpeg", "libspng", "liblcms2"):
        assert lib in ldd, lib
    syms = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True, text=True, check=True).stdout
    assert [line.split()[-1] for line in syms.splitlines()] == ["PyInit__libthumb"]


def test_imports_in_a_fresh_interpreter_without_library_path():
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", "import libthumb; print(libthumb.libthumb_version)"],
                         capture_output=True, text=True, env=env, cwd="/", check=True).stdout
    assert out.strip() == libthumb.libthumb_version


def test_public_names_are_in_the_stubs():
    stub = (pathlib.Path(libthumb.__file__).parent / "_libthumb.pyi").read_text()
    for name in libthumb.__all__:
        if name != "__version__":
            assert re.search(rf"^(def|class) {name}\b|^{name}: ", stub, re.M), name
            assert hasattr(libthumb, name)
    assert libthumb.ThumbError.__module__ == "libthumb" and libthumb.Info.__module__ == "libthumb"
    assert libthumb.thumbnail.__doc__.startswith("thumbnail(data, width, height=None, *, fit='cover'")
    assert "Make a JPEG or PNG thumbnail" in libthumb.thumbnail.__doc__


def test_stubs_match_the_extension_and_type_check_a_caller(tmp_path):
    """mypy's stubtest compares the .pyi with the module at run time; then a caller type-checks
    under --strict, and a wrong option value is caught by the type checker."""
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "libthumb"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    caller = tmp_path / "caller.py"
    caller.write_text(
        "import libthumb\n"
        "data = b''\n"
        "out: bytes = libthumb.thumbnail(data, 512, 512, fit='cover', background='#ffffff', quality=80)\n"
        "m = libthumb.info(bytearray(data))\n"
        "w: int = m.width + m.stored_height\n"
        "libthumb.thumbnail_file('a.jpg', 'b.png', 256, None, fit='inside')\n"
        "try:\n"
        "    libthumb.thumbnail(memoryview(data), None)\n"
        "except libthumb.ThumbError as e:\n"
        "    c: str = e.code\n"
        "libthumb.thumbnail(data, 512, fit='bogus')\n")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(caller)],
                       capture_output=True, text=True, cwd=tmp_path)
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "caller.py:11:" in errors[0] and "Literal['bogus']" in errors[0], r.stdout
