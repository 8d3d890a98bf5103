// A key's verifications over the last 24 hours as a tiny inline SVG line (one query per row).
import { useMemo } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql/index.ts";

const SparkQuery = graphql(`
  query KeySparkline($id: ID!, $from: DateTime!, $to: DateTime!) {
    keyUsage(id: $id, from: $from, to: $to, granularity: HOUR) {
      points {
        bucket
        count
      }
    }
  }
`);

const HOURS = 24;

export function Sparkline({ id, label }: { id: string; label: string }) {
  const range = useMemo(() => {
    const to = new Date();
    to.setMinutes(0, 0, 0);
    to.setHours(to.getHours() + 1);
    return { from: new Date(to.getTime() - HOURS * 3600_000).toISOString(), to: to.toISOString() };
  }, []);
  const [{ data, error }] = useQuery({ query: SparkQuery, variables: { id, ...range } });
  if (error) return <span className="muted">—</span>;
  const buckets = new Array<number>(HOURS).fill(0);
  const start = Date.parse(range.from);
  for (const point of data?.keyUsage.points ?? []) {
    const index = Math.floor((Date.parse(point.bucket) - start) / 3600_000);
    if (index >= 0 && index < HOURS) buckets[index] = (buckets[index] ?? 0) + point.count;
  }
  const total = buckets.reduce((a, b) => a + b, 0);
  const max = Math.max(1, ...buckets);
  const points = buckets
    .map((count, i) => `${(i / (HOURS - 1)) * 80},${18 - (count / max) * 16}`)
    .join(" ");
  return (
    <svg
      className="sparkline"
      width="80"
      height="20"
      viewBox="0 0 80 20"
      role="img"
      aria-label={`${label}: ${total} verifications in the last 24 hours`}
    >
      <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}
