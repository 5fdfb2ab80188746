// The web dashboard's files (web/, embedded at build time) as REST replies.
//
// They are served without the bearer token: they hold no data, and a
// browser cannot send a header when it first opens the page. The page asks
// for the token and sends it on every API call. Every reply carries its
// Content-Type, `Cache-Control: no-cache` with an ETag (a revalidation
// answers 304), a Content-Security-Policy allowing only the coordinator's
// own scripts, styles and connections (no inline script), and
// `X-Content-Type-Options: nosniff`.
#ifndef LOADD_DAEMON_COORDINATOR_STATIC_FILES_H_
#define LOADD_DAEMON_COORDINATOR_STATIC_FILES_H_

#include <pistache/http.h>

#include <string_view>

namespace loadd {

inline constexpr char kDashboardPath[] = "/";
inline constexpr char kDashboardFilesPrefix[] = "/ui/";  // + an embedded file's name

// True for the paths ServeStaticFile answers: the dashboard and its files.
bool IsStaticPath(std::string_view resource);

// Answers GET `resource`: "/" is index.html, "/ui/NAME" the embedded file
// NAME; 404 (JSON error) for any other name.
void ServeStaticFile(const Pistache::Http::Request& request,
                     Pistache::Http::ResponseWriter& response);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_STATIC_FILES_H_
