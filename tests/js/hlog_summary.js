// Reads an HdrHistogram interval log on stdin with hdr-histogram-js (an
// independent implementation) and prints, per tag, the p50, p99, max and
// count of all its intervals added together, as JSON.
"use strict";
const hdr = require("hdr-histogram-js");

let text = "";
process.stdin.on("data", (chunk) => (text += chunk));
process.stdin.on("end", () => {
  const reader = new hdr.HistogramLogReader(text, 64);
  const totals = {};
  let h;
  while ((h = reader.nextIntervalHistogram()) !== null) {
    const tag = h.tag || "";
    if (!totals[tag]) totals[tag] = hdr.build({ bitBucketSize: 64 });
    totals[tag].add(h);
  }
  const out = {};
  for (const [tag, t] of Object.entries(totals)) {
    out[tag] = {
      count: t.totalCount,
      p50: t.getValueAtPercentile(50),
      p99: t.getValueAtPercentile(99),
      // The top of the max's bucket, as the reference getMaxValue() reports.
      max: t.highestEquivalentValue(t.maxValue),
    };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
