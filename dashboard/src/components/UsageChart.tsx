// A key's verifications by outcome over time (uPlot): one series per code, stacked by bucket.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const COLORS: Record<string, string> = {
  VALID: "#1a7f37",
  RATE_LIMITED: "#9a6700",
  INSUFFICIENT_PERMISSIONS: "#8250df",
  REVOKED: "#b42318",
  EXPIRED: "#57606a",
};
const FALLBACK = ["#0a58ca", "#bc4c00", "#116329", "#6639ba", "#a40e26"];

export interface Point {
  bucket: string;
  code: string;
  count: number;
}

export function UsageChart({
  points,
  from,
  to,
  stepSeconds,
  label,
}: {
  points: Point[];
  from: string;
  to: string;
  stepSeconds: number;
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const start = Math.floor(Date.parse(from) / 1000);
    const end = Math.floor(Date.parse(to) / 1000);
    const xs: number[] = [];
    for (let t = start; t < end; t += stepSeconds) xs.push(t);
    const codes = [...new Set(points.map((p) => p.code))].sort();
    const series = codes.map((code) => {
      const ys = new Array<number>(xs.length).fill(0);
      for (const p of points) {
        if (p.code !== code) continue;
        const index = Math.floor((Date.parse(p.bucket) / 1000 - start) / stepSeconds);
        if (index >= 0 && index < ys.length) ys[index] = (ys[index] ?? 0) + p.count;
      }
      return ys;
    });
    const plot = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 240,
        series: [
          {},
          ...codes.map((code, i) => ({
            label: code,
            stroke: COLORS[code] ?? FALLBACK[i % FALLBACK.length],
            width: 2,
          })),
        ],
        axes: [{}, { label: "verifications" }],
        scales: { x: { time: true } },
      },
      [xs, ...series] as uPlot.AlignedData,
      element,
    );
    const resize = () => plot.setSize({ width: Math.max(280, element.clientWidth), height: 240 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.destroy();
    };
  }, [points, from, to, stepSeconds]);
  return <div ref={container} className="chart" role="img" aria-label={label} />;
}
