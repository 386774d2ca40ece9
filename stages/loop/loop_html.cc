// The loop report as one self-contained page: inline SVG and CSS, no script, no fetch.
#include <algorithm>
#include <sstream>

#include "stages/loop/loop_report.h"

namespace lu::stages::loop {
namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c < 0x20 ? ' ' : static_cast<char>(c);
    }
  }
  return out;
}

const char* colour(const std::string& verdict) {
  if (verdict == "PASS") return "#2e9d4a";
  if (verdict == "FAIL") return "#d93025";
  if (verdict == "ERROR") return "#f29900";
  if (verdict == "MISS") return "#8e44ad";
  return "#9aa0a6";
}

std::string ms(std::int64_t v) { return v < 0 ? "-" : std::to_string(v) + " ms"; }

// One column per iteration: pre, blackout and post stacked; the verdict as a square below.
void chart(std::ostringstream& h, const LoopLedger& ledger) {
  const double width = 960, plot = 240, top = 20;
  const std::size_t n = std::max<std::size_t>(ledger.entries.size(), 1);
  const double step = width / static_cast<double>(n), bar = std::max(1.0, step * 0.8);
  std::int64_t tallest = 1;
  for (auto& e : ledger.entries)
    tallest = std::max(tallest, std::max<std::int64_t>(0, e.pre_ms) + std::max<std::int64_t>(0, e.blackout_ms) +
                                    std::max<std::int64_t>(0, e.post_ms));
  h << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width + 60 << "\" height=\"" << plot + 80
    << "\" role=\"img\" aria-label=\"stage times and verdict per iteration\">\n";
  h << "<text x=\"0\" y=\"12\" font-size=\"11\">" << tallest << " ms</text>\n";
  h << "<line x1=\"50\" y1=\"" << top + plot << "\" x2=\"" << width + 50 << "\" y2=\"" << top + plot
    << "\" stroke=\"#555\"/>\n";
  for (std::size_t i = 0; i < ledger.entries.size(); ++i) {
    const auto& e = ledger.entries[i];
    double x = 50 + static_cast<double>(i) * step, y = top + plot;
    auto segment = [&](std::int64_t v, const char* fill, const char* what) {
      if (v <= 0) return;
      double hgt = plot * static_cast<double>(v) / static_cast<double>(tallest);
      y -= hgt;
      h << "<rect class=\"" << what << "\" x=\"" << x << "\" y=\"" << y << "\" width=\"" << bar << "\" height=\"" << hgt
        << "\" fill=\"" << fill << "\"><title>iteration " << e.index << " " << what << " " << v << " ms</title></rect>\n";
    };
    segment(e.pre_ms, "#8ab4f8", "pre");
    segment(e.blackout_ms, "#fbbc04", "blackout");
    segment(e.post_ms, "#5f6368", "post");
    h << "<rect class=\"verdict\" x=\"" << x << "\" y=\"" << top + plot + 6 << "\" width=\"" << bar
      << "\" height=\"14\" fill=\"" << colour(e.verdict) << "\"><title>iteration " << e.index << ": " << esc(e.verdict)
      << "</title></rect>\n";
  }
  h << "<text x=\"50\" y=\"" << top + plot + 40 << "\" font-size=\"11\">iteration 1</text>\n";
  h << "<text x=\"" << width - 20 << "\" y=\"" << top + plot + 40 << "\" font-size=\"11\">" << ledger.entries.size()
    << "</text>\n</svg>\n";
}

void table(std::ostringstream& h, const LoopLedger& ledger) {
  h << "<table><tr><th>#</th><th>verdict</th><th>kernel left</th><th>kernel reached</th><th>pre</th><th>blackout</th>"
       "<th>post</th><th>DMA copies in blackout</th><th>decision</th><th>note</th></tr>\n";
  for (auto& e : ledger.entries)
    h << "<tr><td>" << e.index << "</td><td style=\"color:" << colour(e.verdict) << "\"><b>" << esc(e.verdict)
      << "</b></td><td>" << esc(e.kernel_before) << "</td><td>" << esc(e.kernel_after) << "</td><td>" << ms(e.pre_ms)
      << "</td><td>" << ms(e.blackout_ms) << "</td><td>" << ms(e.post_ms) << "</td><td>" << e.dma_gap_copies
      << "</td><td>" << esc(e.decision) << "</td><td>" << esc(e.note) << "</td></tr>\n";
  h << "</table>\n";
}

}  // namespace

std::string loop_html(const LoopPlan& plan, const LoopLedger& ledger) {
  auto s = summarize(ledger);
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>lu-test loop " << esc(plan.loop_id)
    << "</title>\n<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:12px}"
       "td,th{border:1px solid #ddd;padding:2px 6px}.legend span{display:inline-block;width:12px;height:12px;"
       "margin:0 4px 0 12px}</style></head><body>\n";
  h << "<h1>lu-test loop " << esc(plan.loop_id) << ": <span style=\"color:" << colour(s.verdict) << "\">"
    << esc(s.verdict) << "</span></h1>\n";
  h << "<p>" << s.iterations << " iterations: " << s.pass << " pass, " << s.fail << " fail, " << s.error << " error, "
    << s.miss << " miss, " << s.skip << " skip. Blackout p50 " << ms(s.blackout_p50) << ", p95 " << ms(s.blackout_p95)
    << ", max " << ms(s.blackout_max) << ". " << (ledger.ended ? "Ended: " + esc(ledger.end_reason) : "Still running.")
    << "</p>\n";
  h << "<p class=\"legend\"><span style=\"background:#8ab4f8\"></span>pre<span style=\"background:#fbbc04\"></span>"
       "blackout (kexec to post)<span style=\"background:#5f6368\"></span>post<span style=\"background:#2e9d4a\"></span>"
       "PASS<span style=\"background:#d93025\"></span>FAIL<span style=\"background:#f29900\"></span>ERROR"
       "<span style=\"background:#8e44ad\"></span>MISS</p>\n";
  chart(h, ledger);
  table(h, ledger);
  h << "</body></html>\n";
  return h.str();
}

}  // namespace lu::stages::loop
