// The quilt series file: leading comment lines (the header, which records the
// base) followed by one patch file name per line.
#pragma once

#include <string>
#include <vector>

namespace patchq {

struct SeriesEntry {
  std::string name;  // file name inside patches/
  int line = 0;      // 1-based line in the series file
};

struct Series {
  std::vector<std::string> header;  // leading comment/blank lines, verbatim
  std::vector<SeriesEntry> patches;

  // Value of a "# key: value" header line, or "" when absent.
  std::string HeaderValue(const std::string& key) const;
  // Sets "# key: value", replacing an existing line or appending one.
  void SetHeaderValue(const std::string& key, const std::string& value);
  // Header lines then one name per line.
  std::string Render() const;
};

// Parses series text; `file` names it in errors. Rejects option columns other
// than -p1, names with a directory part, and duplicate names.
Series ParseSeries(const std::string& text, const std::string& file);
Series ReadSeries(const std::string& path);  // a missing file is an error

}  // namespace patchq
