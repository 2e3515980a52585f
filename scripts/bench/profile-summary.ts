/**
 * Summarizes a V8 .cpuprofile: self time by package and by function.
 * Usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { formatSummary, summarizeProfile } from './lib/profile';

const [file, top] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
console.log(formatSummary(file, summarizeProfile(file), Number(top ?? 25)));
