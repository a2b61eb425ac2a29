/** @module metrics: counters, gauges and histograms rendered in the Prometheus text format. */

type Labels = Record<string, string>;

const UNSAFE = /["\\\n]/g;

/** The label set as Prometheus text; it runs for every request, so a plain loop. */
function labelKey(labels: Labels | undefined): string {
  let key = '';
  for (const name in labels) {
    const value = labels[name] as string;
    key += `${key === '' ? '' : ','}${name}="${value.replace(UNSAFE, '_')}"`;
  }
  return key;
}

/**
 * Label sets a counter keeps apart. Some label values come from clients (POST /logs?source= names
 * any source), and each new one would be a series held forever and served at every scrape; past
 * this many, further new label sets are counted together under the value "_other".
 */
export const MAX_SERIES = 1000;

const otherKey = (labels: Labels | undefined): string =>
  labelKey(Object.fromEntries(Object.keys(labels ?? {}).map((name) => [name, '_other'])));

interface Metric {
  render(): string;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  get(labels?: Labels): number;
}

export interface Histogram {
  observe(value: number): void;
}

/** A small metrics registry; the HTTP layer serves render() at /metrics. */
export function createMetrics() {
  const metrics: Metric[] = [];
  // A counter asked for again by name (two parts of one process count the same thing) is the same one.
  const counters = new Map<string, Counter>();

  /**
   * A counter. One without labelNames is served at 0 from the start, so a rate or an alert on it
   * works before its first count; one with labels has a series for each label set once counted.
   */
  const counter = (name: string, help: string, labelNames: readonly string[] = []): Counter => {
    const known = counters.get(name);
    if (known) return known;
    const values = new Map<string, number>(labelNames.length === 0 ? [['', 0]] : []);
    metrics.push({
      render: () =>
        `# HELP ${name} ${help}\n# TYPE ${name} counter\n` +
        [...values].map(([k, v]) => `${name}${k ? `{${k}}` : ''} ${v}\n`).join(''),
    });
    const made: Counter = {
      inc(labels, by = 1) {
        let key = labelKey(labels);
        let value = values.get(key);
        if (value === undefined && values.size >= MAX_SERIES) {
          key = otherKey(labels);
          value = values.get(key);
        }
        values.set(key, (value ?? 0) + by);
      },
      get(labels) {
        return values.get(labelKey(labels)) ?? 0;
      },
    };
    counters.set(name, made);
    return made;
  };

  const gauge = (name: string, help: string, read: () => number) => {
    metrics.push({ render: () => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${read()}\n` });
  };

  const histogram = (name: string, help: string, buckets: number[]): Histogram => {
    const counts = new Array<number>(buckets.length).fill(0);
    let sum = 0;
    let count = 0;
    metrics.push({
      render: () => {
        let out = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`;
        buckets.forEach((le, i) => {
          out += `${name}_bucket{le="${le}"} ${counts[i]}\n`;
        });
        return `${out}${name}_bucket{le="+Inf"} ${count}\n${name}_sum ${sum}\n${name}_count ${count}\n`;
      },
    });
    return {
      observe(value) {
        sum += value;
        count++;
        for (let i = 0; i < buckets.length; i++)
          if (value <= (buckets[i] as number)) counts[i] = (counts[i] as number) + 1;
      },
    };
  };

  return { counter, gauge, histogram, render: () => metrics.map((m) => m.render()).join('') };
}

export type Metrics = ReturnType<typeof createMetrics>;
