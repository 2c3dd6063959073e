// The bundle is stored gzipped (1.5 MB -> 0.5 MB): reports embed it as base64 and the page inflates it with the
// browser's DecompressionStream. Node's gzip header carries no timestamp, so the output is reproducible.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const [source, target] = process.argv.slice(2);
writeFileSync(target, gzipSync(readFileSync(source), { level: 9 }));
