// A static server for the page on 127.0.0.1: the page's files, and the package
// built by `bindings/wasm/scripts/test.sh` under /pkg/ (`.wasm` as application/wasm).
//
//   node examples/emq-preview/serve.mjs [port]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const pkg = fileURLToPath(new URL("../../bindings/wasm/pkg/web/", import.meta.url));
const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json",
};

export function serve(port = 0) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const [base, rel] = path.startsWith("/pkg/") ? [pkg, path.slice(5)] : [here, path === "/" ? "index.html" : path.slice(1)];
    if (rel.includes("..") || !(extname(rel) in types)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(join(base, rel));
      res.writeHead(200, { "content-type": types[extname(rel)], "cache-control": "no-store" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serve(Number(process.argv[2] ?? 8080));
  console.log(`EMQ preview on http://127.0.0.1:${server.address().port}/`);
}
