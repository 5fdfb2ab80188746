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

#include <optional>
#include <string>
#include <string_view>

#include "daemon/coordinator/rest_exchange.h"

namespace loadd {

// The answer to GET for the embedded dashboard file `name` ("index.html"
// for "/"); 404 (JSON error) when there is none; 304 when if_none_match
// (the If-None-Match header) is its ETag. The route table (rest_routes.h)
// lets a request without the token reach this only for a file that exists.
RestResponse StaticFileResponse(std::string_view name,
                                const std::optional<std::string>& if_none_match);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_STATIC_FILES_H_
