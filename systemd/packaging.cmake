# The Debian package: `cmake --build build --target package` (or
# `cd build && cpack`) writes build/loadd_<version>_<arch>.deb with
# everything `cmake --install` puts in place. Its runtime dependencies come
# from dpkg-shlibdeps (the Debian library packages the binaries link), plus
# systemd for the units, sysusers and tmpfiles. The maintainer scripts in
# systemd/debian/ create the loadd user and the secrets, and stop and
# unlink the units on removal.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME loadd)
set(CPACK_PACKAGE_VENDOR "loadd")
set(CPACK_PACKAGE_CONTACT "loadd maintainers <loadd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "distributed HTTP load-testing fleet")
set(CPACK_PACKAGE_DESCRIPTION
    "Permanent load-generating workers, one per CPU core (loadd@N.service),\n\
a coordinator with a REST API (loadd-coordinator.service), and loadctl.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# systemd-sysusers and systemd-tmpfiles in postinst; Type=notify units.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Debug symbols stay in the build tree; the package is a third the size.
set(CPACK_STRIP_FILES ON)
set(_loadd_conffiles ${CMAKE_CURRENT_BINARY_DIR}/debian/conffiles)
file(WRITE ${_loadd_conffiles} "/etc/loadd/worker.conf\n/etc/loadd/coordinator.conf\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm
    ${_loadd_conffiles})
include(CPack)
