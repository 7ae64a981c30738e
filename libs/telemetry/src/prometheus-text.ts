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

function number(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
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
        lines.push(`${name}_bucket${labels(point.attributes, [['le', number(boundaries[i] ?? Infinity)]])} ${cumulative}`);
      });
      lines.push(`${name}_sum${labels(point.attributes)} ${number(point.value.sum ?? 0)}`);
      lines.push(`${name}_count${labels(point.attributes)} ${point.value.count}`);
    }
  } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
    const kind = metric.dataPointType === DataPointType.SUM && metric.isMonotonic ? 'counter' : 'gauge';
    lines.push(`# TYPE ${name} ${kind}`);
    for (const point of metric.dataPoints) lines.push(`${name}${labels(point.attributes)} ${number(point.value)}`);
  }
  return lines.length > 1 ? `${lines.join('\n')}\n` : '';
}
