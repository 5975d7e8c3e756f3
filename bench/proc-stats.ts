/**
 * What Linux says about a process in /proc: CPU time used and resident
 * memory. Read from outside, so measuring costs the measured process nothing.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat; 100 on every common Linux. */
const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** utime + stime from the text of /proc/<pid>/stat, in seconds. */
export function parseCpuSeconds(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function cpuSeconds(pid: number): number {
  return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

export interface MemoryStatus {
  /** Peak resident set size (VmHWM), bytes. */
  peakRssBytes: number;
  /** Resident set size now (VmRSS), bytes. */
  rssBytes: number;
}

/** VmHWM and VmRSS from the text of /proc/<pid>/status. */
export function parseMemoryStatus(status: string): MemoryStatus {
  const kib = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
    if (match === null) throw new Error(`no ${name} in /proc status`);
    return Number(match[1]) * 1024;
  };
  return { peakRssBytes: kib("VmHWM"), rssBytes: kib("VmRSS") };
}

export function memoryStatus(pid: number): MemoryStatus {
  return parseMemoryStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
}

/**
 * Resets the peak RSS to the current RSS (`echo 5 > /proc/<pid>/clear_refs`),
 * so each scenario on a shared server reports its own peak. False where the
 * kernel refuses: the peak is then the process's since its start.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}
