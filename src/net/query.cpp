#include "net/query.hpp"

#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

namespace fg::net {

namespace {
boost::urls::encoding_opts FormDecoding() {
  boost::urls::encoding_opts opt;
  opt.space_as_plus = true;
  return opt;
}
}  // namespace

Query::Query(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return;
  query_ = target.substr(q + 1);
  valid_ = !boost::urls::parse_query(query_).has_error();
}

std::optional<std::string> Query::Get(std::string_view key) const {
  if (!valid_) return std::nullopt;
  const boost::urls::params_view params(boost::urls::parse_query(query_).value(), FormDecoding());
  for (const auto& p : params) {
    if (p.key == key) return p.has_value ? p.value : std::string();
  }
  return std::nullopt;
}

std::map<std::string, std::string> Query::ToMap() const {
  std::map<std::string, std::string> out;
  if (!valid_) return out;
  const boost::urls::params_view params(boost::urls::parse_query(query_).value(), FormDecoding());
  for (const auto& p : params) {
    if (!p.key.empty()) out.emplace(p.key, p.has_value ? p.value : std::string());  // first occurrence wins
  }
  return out;
}

}  // namespace fg::net
