#pragma once
// Google Drive's answer to a large file: a confirmation web page instead of the file. Two page
// styles are understood: the download form of drive.usercontent.google.com (<form
// id="download-form"> with hidden inputs) and the older link or token with "confirm=".

#include <string>

namespace msinet::fetch {

/// The URL of the real file behind the Google Drive confirmation page `html`, served from
/// `page_url` (relative references are resolved against it); empty when the page offers none
/// (quota exceeded, access denied).
std::string drive_confirmation_url(const std::string& html, const std::string& page_url);

}  // namespace msinet::fetch
