#include "msinet/fetch/drive_page.h"

#include <cctype>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "msinet/fetch/url.h"

namespace msinet::fetch {

namespace {

std::string html_unescape(const std::string& s) {
  static const std::map<std::string, std::string> named = {
      {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    const std::string ent = s.substr(i + 1, semi - i - 1);
    std::string rep;
    if (!ent.empty() && ent[0] == '#') {
      const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      const long code = std::strtol(ent.c_str() + (hex ? 2 : 1), nullptr, hex ? 16 : 10);
      if (code > 0 && code < 128) rep = std::string(1, static_cast<char>(code));
    } else if (named.count(ent)) {
      rep = named.at(ent);
    }
    if (rep.empty()) {
      out += s[i];
      continue;
    }
    out += rep;
    i = semi;
  }
  return out;
}

struct Tag {
  std::string name;  // lower case, "/form" for a closing tag
  std::map<std::string, std::string> attrs;
};

// All tags of `html` in order, with lower-cased names and unescaped attribute values.
std::vector<Tag> scan_tags(const std::string& html) {
  std::vector<Tag> tags;
  size_t i = 0;
  const auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':';
  };
  while ((i = html.find('<', i)) != std::string::npos) {
    ++i;
    if (html.compare(i, 3, "!--") == 0) {
      const size_t end = html.find("-->", i);
      if (end == std::string::npos) break;
      i = end + 3;
      continue;
    }
    Tag tag;
    if (i < html.size() && html[i] == '/') {
      tag.name = "/";
      ++i;
    }
    while (i < html.size() && is_name(html[i])) {
      tag.name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
    }
    while (i < html.size() && html[i] != '>') {
      if (!is_name(html[i])) {
        ++i;
        continue;
      }
      std::string key;
      while (i < html.size() && is_name(html[i])) {
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
      }
      while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
      std::string value;
      if (i < html.size() && html[i] == '=') {
        ++i;
        while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
        if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
          const char quote = html[i++];
          const size_t end = html.find(quote, i);
          if (end == std::string::npos) return tags;
          value = html.substr(i, end - i);
          i = end + 1;
        } else {
          while (i < html.size() && !std::isspace(static_cast<unsigned char>(html[i])) &&
                 html[i] != '>') {
            value += html[i++];
          }
        }
      }
      tag.attrs.emplace(key, html_unescape(value));
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

// Newer style: <form id="download-form" action="..."> whose inputs make the query.
std::string form_url(const std::vector<Tag>& tags, const std::string& page_url) {
  bool in_form = false;
  std::string action;
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& tag : tags) {
    if (tag.name == "form") {
      const auto id = tag.attrs.find("id");
      in_form = id != tag.attrs.end() && id->second == "download-form";
      if (in_form) {
        const auto a = tag.attrs.find("action");
        action = a == tag.attrs.end() ? std::string() : a->second;
        inputs.clear();
      }
    } else if (tag.name == "/form") {
      if (in_form && !action.empty()) break;
      in_form = false;
    } else if (tag.name == "input" && in_form) {
      const auto name = tag.attrs.find("name");
      if (name == tag.attrs.end() || name->second.empty()) continue;
      const auto value = tag.attrs.find("value");
      inputs.emplace_back(name->second, value == tag.attrs.end() ? "" : value->second);
    }
  }
  if (action.empty() || inputs.empty()) return {};
  std::string url = resolve_reference(action, page_url);
  for (const auto& [name, value] : inputs) url = append_query(url, name, value);
  return url;
}

// Older style: the first <a href="...confirm=...">.
std::string link_url(const std::vector<Tag>& tags, const std::string& page_url) {
  for (const auto& tag : tags) {
    if (tag.name != "a") continue;
    const auto href = tag.attrs.find("href");
    if (href != tag.attrs.end() && href->second.find("confirm=") != std::string::npos) {
      return resolve_reference(href->second, page_url);
    }
  }
  return {};
}

// Oldest style: only a token somewhere in the page (a script or a link we did not recognise).
std::string token_url(const std::string& html, const std::string& page_url) {
  const size_t at = html.find("confirm=");
  if (at == std::string::npos) return {};
  size_t end = at + 8;
  while (end < html.size() && (std::isalnum(static_cast<unsigned char>(html[end])) ||
                               html[end] == '_' || html[end] == '-')) {
    ++end;
  }
  const std::string token = html.substr(at + 8, end - at - 8);
  return token.empty() ? std::string() : append_query(page_url, "confirm", token);
}

}  // namespace

std::string drive_confirmation_url(const std::string& html, const std::string& page_url) {
  const std::vector<Tag> tags = scan_tags(html);
  std::string url = form_url(tags, page_url);
  if (url.empty()) url = link_url(tags, page_url);
  if (url.empty()) url = token_url(html, page_url);
  return url;
}

}  // namespace msinet::fetch
