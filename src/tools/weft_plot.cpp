// weft-plot: draws a weft trace (Chrome trace-event JSON, from Scheduler::write_trace
// or WEFT_TRACE=path) as an SVG picture of per-worker utilization over time.
//
//   weft-plot trace.json out.svg
//
// One lane per worker, then one per calling thread that ran weft work ("caller (tid
// N)": slot 0 of its loops, tasks it ran while waiting), each labelled with its track
// name and the share of the time it was running something; one rectangle per span
// coloured by priority, a time axis and a legend. Lanes follow the trace's
// thread_sort_index (then tid). Spans closer together than a pixel with the same priority are merged so
// that a trace of a million tiny tasks still gives a small file.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

// Well-formed JSON that is not a trace weft-plot can draw.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr const char* usage =
    "usage: weft-plot TRACE.json OUT.svg\n"
    "  Draws per-worker (and per-caller) utilization over time from a weft trace (Chrome\n"
    "  trace-event JSON, written by Scheduler::write_trace or WEFT_TRACE=path) as an SVG.\n";

struct PlotSpan {
  double begin_us = 0, end_us = 0;
  int priority = -1;  // 0 low .. 3 critical; -1 unknown
  std::string name;
  unsigned merged = 1;
};

struct Lane {
  std::string label;
  std::vector<PlotSpan> spans;
  bool has_sort_index = false;
  double sort_index = 0;
};

// A calling thread's lane (trace_writer.cpp's labels), not a worker's.
bool is_caller(const Lane& lane) {
  return lane.label.rfind("caller", 0) == 0 || lane.label.rfind("other callers", 0) == 0;
}

const char* const priority_names[4] = {"low", "normal", "high", "critical"};
const char* const priority_colors[4] = {"#76b7b2", "#4e79a7", "#f28e2b", "#e15759"};
const char* const unknown_color = "#bab0ac";

int priority_index(const std::string& name) {
  for (int i = 0; i < 4; ++i)
    if (name == priority_names[i]) return i;
  return -1;
}

// XML's escapes, for the SVG (the same shape as common/json_writer.cpp's JSON escaper,
// other characters).
std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    }
  }
  return out;
}

std::string fmt(double v, int decimals = 2) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  return buffer;
}

// The member `key` of `value`; nullptr when `value` is not an object or lacks it.
const json* member(const json& value, const char* key) {
  if (!value.is_object()) return nullptr;
  const auto it = value.find(key);
  return it != value.end() ? &*it : nullptr;
}

// The string member `key` of `value`; nullptr when absent or not a string.
const std::string* string_member(const json& value, const char* key) {
  const json* found = member(value, key);
  return found != nullptr && found->is_string() ? found->get_ptr<const std::string*>() : nullptr;
}

long long tid_of(const json& event) {
  const json* tid = member(event, "tid");
  if (tid == nullptr || !tid->is_number()) throw TraceError("trace: an event without a numeric \"tid\"");
  return tid->get<long long>();
}

std::map<long long, Lane> read_lanes(const json& doc) {
  const json* events = doc.is_array() ? &doc : member(doc, "traceEvents");
  if (events == nullptr || !events->is_array()) throw TraceError("trace: no \"traceEvents\" array");
  std::map<long long, Lane> lanes;
  for (const json& e : *events) {
    const std::string* ph = string_member(e, "ph");
    if (ph == nullptr) continue;
    if (*ph == "M") {
      const std::string* name = string_member(e, "name");
      if (name == nullptr) continue;
      const json* args = member(e, "args");
      if (*name == "thread_name") {
        const std::string* label = args != nullptr ? string_member(*args, "name") : nullptr;
        if (label != nullptr) lanes[tid_of(e)].label = *label;
      } else if (*name == "thread_sort_index") {
        const json* index = args != nullptr ? member(*args, "sort_index") : nullptr;
        if (index != nullptr && index->is_number()) {
          Lane& lane = lanes[tid_of(e)];
          lane.has_sort_index = true;
          lane.sort_index = index->get<double>();
        }
      }
    } else if (*ph == "X") {
      PlotSpan s;
      s.begin_us = e.at("ts").get<double>();
      s.end_us = s.begin_us + std::max(0.0, e.at("dur").get<double>());
      if (const json* args = member(e, "args"))
        if (const std::string* p = string_member(*args, "priority")) s.priority = priority_index(*p);
      if (const std::string* n = string_member(e, "name")) s.name = *n;
      lanes[tid_of(e)].spans.push_back(std::move(s));
    }
  }
  for (auto& [tid, lane] : lanes)
    if (lane.label.empty()) lane.label = "thread " + std::to_string(tid);
  return lanes;
}

// Time covered by at least one span (nested spans count once).
double covered(std::vector<PlotSpan> spans) {
  std::sort(spans.begin(), spans.end(),
            [](const PlotSpan& a, const PlotSpan& b) { return a.begin_us < b.begin_us; });
  double total = 0, start = 0, end = -1;
  for (const PlotSpan& s : spans) {
    if (s.begin_us > end) {
      if (end > start) total += end - start;
      start = s.begin_us;
      end = s.end_us;
    } else {
      end = std::max(end, s.end_us);
    }
  }
  if (end > start) total += end - start;
  return total;
}

std::vector<PlotSpan> merge_for_drawing(std::vector<PlotSpan> spans, double us_per_px) {
  std::sort(spans.begin(), spans.end(), [](const PlotSpan& a, const PlotSpan& b) {
    return a.begin_us != b.begin_us ? a.begin_us < b.begin_us : a.end_us > b.end_us;
  });
  std::vector<PlotSpan> out;
  for (PlotSpan& s : spans) {
    if (!out.empty()) {
      PlotSpan& last = out.back();
      if (last.priority == s.priority && s.begin_us - last.end_us < us_per_px &&
          (last.end_us - last.begin_us < us_per_px || s.end_us - s.begin_us < us_per_px)) {
        last.end_us = std::max(last.end_us, s.end_us);
        ++last.merged;
        continue;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// A round step for about `target` ticks over `range`: 1, 2 or 5 times a power of ten.
double tick_step(double range, int target) {
  const double raw = range / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

// Drawing order: by thread_sort_index where the trace gives one (weft's: workers, then
// callers), then by tid; lanes without an index after those with one.
std::vector<std::pair<long long, const Lane*>> ordered(const std::map<long long, Lane>& lanes) {
  std::vector<std::pair<long long, const Lane*>> out;
  for (const auto& [tid, lane] : lanes) out.emplace_back(tid, &lane);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const Lane& x = *a.second;
    const Lane& y = *b.second;
    if (x.has_sort_index != y.has_sort_index) return x.has_sort_index;
    return x.has_sort_index && x.sort_index != y.sort_index ? x.sort_index < y.sort_index
                                                            : a.first < b.first;
  });
  return out;
}

std::string render(const std::map<long long, Lane>& lanes) {
  double t0 = 0, t1 = 0;
  bool any = false;
  for (const auto& [tid, lane] : lanes)
    for (const PlotSpan& s : lane.spans) {
      t0 = any ? std::min(t0, s.begin_us) : s.begin_us;
      t1 = any ? std::max(t1, s.end_us) : s.end_us;
      any = true;
    }
  if (!any || t1 <= t0) t1 = t0 + 1;
  const double range = t1 - t0;

  const double left = 260, right = 20, top = 44, lane_h = 22, lane_gap = 6, plot_w = 1000;
  const double width = left + plot_w + right;
  const double lanes_h = static_cast<double>(lanes.size()) * (lane_h + lane_gap);
  const double axis_y = top + lanes_h + 4;
  const double height = axis_y + 70;
  const double us_per_px = range / plot_w;
  auto x_of = [&](double us) { return left + (us - t0) / range * plot_w; };
  std::size_t callers = 0;
  for (const auto& [tid, lane] : lanes) callers += is_caller(lane) ? 1 : 0;
  const std::size_t workers = lanes.size() - callers;

  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << fmt(width, 0) << "\" height=\""
      << fmt(height, 0) << "\" viewBox=\"0 0 " << fmt(width, 0) << ' ' << fmt(height, 0)
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect x=\"0\" y=\"0\" width=\"" << fmt(width, 0) << "\" height=\"" << fmt(height, 0)
      << "\" fill=\"white\"/>\n"
      << "<text x=\"10\" y=\"24\" font-size=\"15\" font-weight=\"bold\">weft: worker utilization, "
      << workers << " workers";
  if (callers > 0) svg << ", " << callers << (callers == 1 ? " caller" : " callers");
  svg << ", " << fmt(range / 1000.0, 3) << " ms</text>\n";

  double y = top;
  for (const auto& [tid, lane_ptr] : ordered(lanes)) {
    const Lane& lane = *lane_ptr;
    const double busy = covered(lane.spans) / range * 100.0;
    svg << "<g class=\"lane\" data-tid=\"" << tid << "\" data-kind=\""
        << (is_caller(lane) ? "caller" : "worker") << "\">\n"
        << "<text x=\"10\" y=\"" << fmt(y + lane_h - 7) << "\">" << xml_escape(lane.label)
        << "</text>\n"
        << "<text x=\"" << fmt(left - 8) << "\" y=\"" << fmt(y + lane_h - 7)
        << "\" text-anchor=\"end\" fill=\"#555\">" << fmt(busy, 1) << "%</text>\n"
        << "<rect x=\"" << fmt(left) << "\" y=\"" << fmt(y) << "\" width=\"" << fmt(plot_w)
        << "\" height=\"" << fmt(lane_h) << "\" fill=\"#f2f2f2\"/>\n";
    for (const PlotSpan& s : merge_for_drawing(lane.spans, us_per_px)) {
      const double x = x_of(s.begin_us);
      const double w = std::max(0.3, x_of(s.end_us) - x);
      const char* color = s.priority >= 0 ? priority_colors[s.priority] : unknown_color;
      svg << "<rect x=\"" << fmt(x) << "\" y=\"" << fmt(y + 1) << "\" width=\"" << fmt(w)
          << "\" height=\"" << fmt(lane_h - 2) << "\" fill=\"" << color << "\"><title>";
      if (s.merged > 1) {
        svg << s.merged << " spans";
      } else {
        svg << xml_escape(s.name);
      }
      svg << " (" << (s.priority >= 0 ? priority_names[s.priority] : "unknown priority") << ", "
          << fmt(s.end_us - s.begin_us, 3) << " us)</title></rect>\n";
    }
    svg << "</g>\n";
    y += lane_h + lane_gap;
  }

  // Time axis, in ms from the first span.
  svg << "<line x1=\"" << fmt(left) << "\" y1=\"" << fmt(axis_y) << "\" x2=\"" << fmt(left + plot_w)
      << "\" y2=\"" << fmt(axis_y) << "\" stroke=\"black\"/>\n";
  const double step = tick_step(range, 8);
  for (double t = 0; t <= range * (1 + 1e-9); t += step) {
    const double x = x_of(t0 + t);
    svg << "<line x1=\"" << fmt(x) << "\" y1=\"" << fmt(axis_y) << "\" x2=\"" << fmt(x)
        << "\" y2=\"" << fmt(axis_y + 5) << "\" stroke=\"black\"/>\n"
        << "<text x=\"" << fmt(x) << "\" y=\"" << fmt(axis_y + 18) << "\" text-anchor=\"middle\">"
        << fmt(t / 1000.0, step < 1000 ? 3 : 1) << "</text>\n";
  }
  svg << "<text x=\"" << fmt(left + plot_w) << "\" y=\"" << fmt(axis_y + 34)
      << "\" text-anchor=\"end\">time (ms)</text>\n";

  // Legend.
  double lx = left;
  const double ly = axis_y + 48;
  for (int p = 3; p >= 0; --p) {
    svg << "<rect x=\"" << fmt(lx) << "\" y=\"" << fmt(ly) << "\" width=\"12\" height=\"12\" fill=\""
        << priority_colors[p] << "\"/>\n"
        << "<text x=\"" << fmt(lx + 16) << "\" y=\"" << fmt(ly + 11) << "\">" << priority_names[p]
        << "</text>\n";
    lx += 90;
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (argc != 3) {
    std::fputs(usage, stderr);
    return 2;
  }
  const std::string in_path = argv[1], out_path = argv[2];
  std::ifstream in(in_path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "weft-plot: cannot read '%s': %s\n", in_path.c_str(), std::strerror(errno));
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string svg;
  try {
    svg = render(read_lanes(json::parse(text.str())));
  } catch (const std::exception& e) {
    // json::exception (malformed JSON, a member of the wrong type) or TraceError.
    std::fprintf(stderr, "weft-plot: '%s': %s\n", in_path.c_str(), e.what());
    return 1;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "weft-plot: cannot write '%s': %s\n", out_path.c_str(), std::strerror(errno));
    return 1;
  }
  out << svg;
  out.close();
  if (!out) {
    std::fprintf(stderr, "weft-plot: cannot write '%s': %s\n", out_path.c_str(), std::strerror(errno));
    return 1;
  }
  return 0;
}
