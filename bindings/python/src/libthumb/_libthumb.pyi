# Type stubs of libthumb's C extension (src/_libthumb.c).
import os
import sys
from typing import ClassVar, Final, Literal, Optional, Tuple, Union, final

from typing_extensions import Buffer  # type: ignore[import-not-found, unused-ignore]

_Fit = Literal["cover", "contain", "fill", "inside", "outside"]
_Position = Literal[
    "centre", "center", "north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest",
    "top", "right", "bottom", "left", "right top", "right bottom", "left bottom", "left top",
]
_Kernel = Literal["lanczos3", "nearest", "linear", "cubic"]
_Format = Literal["jpeg", "jpg", "png"]
_Chroma = Literal["4:2:0", "420", "4:4:4", "444"]
_Background = Union[Tuple[int, int, int], Tuple[int, int, int, int], str]
_StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

ERROR_CODES: Final[dict[str, int]]
libthumb_version: Final[str]
libthumb_version_number: Final[int]
simd: Final[str]

class ThumbError(Exception):
    code: str
    """The C error name without THUMB_: 'EINVAL', 'ETRUNCATED', 'ELIMIT_PIXELS', ..."""
    number: int
    detail: str
    path: Optional[str]

@final
class Info(Tuple[object, ...]):
    """An image's header information (a struct sequence, like os.stat_result)."""
    n_fields: ClassVar[int]
    n_sequence_fields: ClassVar[int]
    n_unnamed_fields: ClassVar[int]
    __match_args__: ClassVar[Tuple[str, ...]] = (
        "format", "width", "height", "orientation", "channels", "bit_depth", "has_alpha", "progressive",
        "has_icc", "icc_size", "has_exif", "colour_space", "stored_width", "stored_height",
    )
    @property
    def format(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def orientation(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def bit_depth(self) -> int: ...
    @property
    def has_alpha(self) -> bool: ...
    @property
    def progressive(self) -> bool: ...
    @property
    def has_icc(self) -> bool: ...
    @property
    def icc_size(self) -> int: ...
    @property
    def has_exif(self) -> bool: ...
    @property
    def colour_space(self) -> str: ...
    @property
    def stored_width(self) -> int: ...
    @property
    def stored_height(self) -> int: ...
    if sys.version_info >= (3, 13):
        def __replace__(self, **changes: object) -> "Info": ...

def thumbnail(
    data: Buffer,
    width: Optional[int],
    height: Optional[int] = None,
    *,
    fit: _Fit = "cover",
    position: _Position = "centre",
    kernel: _Kernel = "lanczos3",
    format: Optional[_Format] = "jpeg",
    quality: int = 80,
    progressive: bool = False,
    background: _Background = (255, 255, 255),
    auto_orient: bool = True,
    without_enlargement: bool = False,
    max_pixels: int = 268402689,
    chroma_subsampling: _Chroma = "4:2:0",
    optimize_coding: bool = True,
    png_compression: int = 6,
    keep_colour: bool = False,
    embed_srgb_profile: bool = False,
    fast_shrink: bool = True,
    max_input_bytes: int = 268435456,
    max_jpeg_scans: int = 100,
    max_png_chunk_size: int = 16777216,
    max_png_chunk_cache: int = 33554432,
    max_png_chunks: int = 1000,
    max_output_width: int = 16383,
    max_output_height: int = 16383,
    max_output_pixels: int = 16777216,
    max_frame_bytes: int = 536870912,
    max_icc_bytes: int = 4194304,
) -> bytes: ...

def thumbnail_file(
    src: _StrPath,
    dst: _StrPath,
    width: Optional[int],
    height: Optional[int] = None,
    *,
    fit: _Fit = "cover",
    position: _Position = "centre",
    kernel: _Kernel = "lanczos3",
    format: Optional[_Format] = None,
    quality: int = 80,
    progressive: bool = False,
    background: _Background = (255, 255, 255),
    auto_orient: bool = True,
    without_enlargement: bool = False,
    max_pixels: int = 268402689,
    chroma_subsampling: _Chroma = "4:2:0",
    optimize_coding: bool = True,
    png_compression: int = 6,
    keep_colour: bool = False,
    embed_srgb_profile: bool = False,
    fast_shrink: bool = True,
    max_input_bytes: int = 268435456,
    max_jpeg_scans: int = 100,
    max_png_chunk_size: int = 16777216,
    max_png_chunk_cache: int = 33554432,
    max_png_chunks: int = 1000,
    max_output_width: int = 16383,
    max_output_height: int = 16383,
    max_output_pixels: int = 16777216,
    max_frame_bytes: int = 536870912,
    max_icc_bytes: int = 4194304,
) -> None: ...

def info(
    data: Buffer,
    *,
    auto_orient: bool = True,
    max_pixels: int = 268402689,
    max_png_chunk_size: int = 16777216,
    max_png_chunk_cache: int = 33554432,
    max_png_chunks: int = 1000,
    max_icc_bytes: int = 4194304,
) -> Info: ...

def info_file(
    path: _StrPath,
    *,
    auto_orient: bool = True,
    max_pixels: int = 268402689,
    max_png_chunk_size: int = 16777216,
    max_png_chunk_cache: int = 33554432,
    max_png_chunks: int = 1000,
    max_icc_bytes: int = 4194304,
) -> Info: ...

def sniff(data: Buffer, /) -> Optional[str]: ...
def defaults() -> dict[str, object]: ...
def _error(number: int, detail: str = "") -> ThumbError: ...
