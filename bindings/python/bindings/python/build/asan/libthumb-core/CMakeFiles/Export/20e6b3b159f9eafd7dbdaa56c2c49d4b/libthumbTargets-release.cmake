#----------------------------------------------------------------
# Generated CMake target import file for configuration "Release".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "libthumb::thumb" for configuration "Release"
set_property(TARGET libthumb::thumb APPEND PROPERTY IMPORTED_CONFIGURATIONS RELEASE)
set_target_properties(libthumb::thumb PROPERTIES
  IMPORTED_LOCATION_RELEASE "${_IMPORT_PREFIX}/lib/libthumb.so.1.0.0"
  IMPORTED_SONAME_RELEASE "libthumb.so.1"
  )

list(APPEND _cmake_import_check_targets libthumb::thumb )
list(APPEND _cmake_import_check_files_for_libthumb::thumb "${_IMPORT_PREFIX}/lib/libthumb.so.1.0.0" )

# Import target "libthumb::thumb_static" for configuration "Release"
set_property(TARGET libthumb::thumb_static APPEND PROPERTY IMPORTED_CONFIGURATIONS RELEASE)
set_target_properties(libthumb::thumb_static PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELEASE "C"
  IMPORTED_LOCATION_RELEASE "${_IMPORT_PREFIX}/lib/libthumb.a"
  )

list(APPEND _cmake_import_check_targets libthumb::thumb_static )
list(APPEND _cmake_import_check_files_for_libthumb::thumb_static "${_IMPORT_PREFIX}/lib/libthumb.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
