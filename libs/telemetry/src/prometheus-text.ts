import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';

/*
 * Prometheus text as TF Serving's exporter writes it (util/prometheus_exporter.cc, shared/spec §10):
 * every character of a name outside [a-zA-Z0-9_] becomes ':', label names get '_', scalars are
 * `name{labels} value` with `{}` even when there are no labels, histograms are cumulative buckets
 * ending with le="+Inf", then _sum and _count.
 */

export function tfMetricName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, ':');
}

function labelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function labelValue(value: unknown): string {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(attributes: Record<string, unknown>, extra: Array<[string, string]> = []): string {
  const parts = [...Object.entries(attributes).map(([k, v]) => `${labelName(k)}="${labelValue(v)}"`), ...extra.map(([k, v]) => `${k}="${v}"`)];
  return `{${parts.join(',')}}`;
}

/**
 * A double as absl::StrCat writes it (bucket limits and sums): %g with six significant digits,
 * e.g. 612.22 for 612.220032 and 1.45989e+09.
 */
export function sixDigits(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const [mantissa, exponent] = value.toExponential(5).split('e') as [string, string];
  const power = Number(exponent);
  if (power < -4 || power >= 6) {
    const digits = String(Math.abs(power)).padStart(2, '0');
    return `${mantissa.replace(/\.?0+$/, '')}e${power < 0 ? '-' : '+'}${digits}`;
  }
  return String(Number(value.toPrecision(6)));
}

/** One metric (an OTel instrument named like `/tensorflow/serving/request_count`, leading slash omitted). */
export function tfMetricText(metric: MetricData): string {
  const name = tfMetricName(`/${metric.descriptor.name}`);
  const lines: string[] = [];
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    lines.push(`# TYPE ${name} histogram`);
    for (const point of metric.dataPoints) {
      const { boundaries, counts } = point.value.buckets;
      let cumulative = 0;
      counts.forEach((count, i) => {
        cumulative += count;
        lines.push(`${name}_bucket${labels(point.attributes, [['le', sixDigits(boundaries[i] ?? Infinity)]])} ${cumulative}`);
      });
      lines.push(`${name}_sum${labels(point.attributes)} ${sixDigits(point.value.sum ?? 0)}`);
      lines.push(`${name}_count${labels(point.attributes)} ${point.value.count}`);
    }
  } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
    const kind = metric.dataPointType === DataPointType.SUM && metric.isMonotonic ? 'counter' : 'gauge';
    lines.push(`# TYPE ${name} ${kind}`);
    // Scalars are int64 in TF (%d).
    for (const point of metric.dataPoints) lines.push(`${name}${labels(point.attributes)} ${Math.trunc(point.value)}`);
  }
  return lines.length > 1 ? `${lines.join('\n')}\n` : '';
}
