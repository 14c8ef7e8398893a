// The folder every benchmark works in: BENCH_DIR (default the OS temp folder)/cas-bench, marked as a
// "top directory" (chattr +T) so that ext4 puts each folder made in it in a block group of its own.
//
// Why: ext4 without a journal (this machine's root filesystem) skips, on every file create, each inode
// of the group that was deleted in the last minute — up to six while the inode table is dirty — with
// a lookup per inode. Right after one benchmark has deleted its blobs, every create of the next one in
// the same group scans all of them: 0.4–0.8 ms of system time per file was measured here, against
// 0.03 ms in a quiet group. That cost is the previous run's clean-up, not the code being measured.
// Where chattr or the flag is not available the folder is used as it is.
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

let base

/** The benchmarks' base folder, made (and flagged) on first use. */
export function benchBase() {
  if (base === undefined) {
    base = join(process.env.BENCH_DIR ?? tmpdir(), 'cas-bench')
    mkdirSync(base, { recursive: true })
    spawnSync('chattr', ['+T', base], { stdio: 'ignore' })
  }
  return base
}
