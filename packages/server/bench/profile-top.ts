// node --import tsx packages/server/bench/profile-top.ts <file.cpuprofile>… [count]: the functions
// each CPU profile (node --cpu-prof, one file a thread) spent the most time in themselves, with their
// share of the samples, for reading where bench:intake's time goes without a browser's profiler.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const files = args.filter((arg) => !/^\d+$/.test(arg));
const count = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 30);
if (files.length === 0) {
  console.error('usage: profile-top.ts <file.cpuprofile>… [count]; make them with node --cpu-prof');
  process.exit(2);
}

function summarize(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const frameOf = new Map<number, string>();
  for (const { id, callFrame } of profile.nodes) {
    const where = callFrame.url ? relative(process.cwd(), callFrame.url.replace(/^file:\/\//, '')) : '';
    const name = callFrame.functionName || '(anonymous)';
    frameOf.set(id, where ? `${name} ${where}:${callFrame.lineNumber + 1}` : name);
  }
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = frameOf.get(id) ?? '?';
    self.set(frame, (self.get(frame) ?? 0) + us);
    total += us;
  });
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled; self time:`);
  for (const [frame, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, count))
    console.log(
      `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${frame}`,
    );
}

for (const file of files) summarize(file);
