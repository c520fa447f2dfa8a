// The baseline of bench/clusters_supercluster.py: supercluster behind Node's bare `http` server.
//
//   node server.js POINTS.json [--port 0] [--radius 32] [--extent 256] [--min-zoom 0] [--max-zoom 16]
//
// POINTS.json is an array of [lon, lat]. Prints "indexed <n> points in <ms> ms", then "ready <port>"
// once it listens (port 0: any free port), and answers
//   GET /clusters?bbox=minlon,minlat,maxlon,maxlat&zoom=z  ->  {"clusters": [{lon, lat, count}], "total": n}
// the shape of our GET /api/pins/clusters/.
import { readFileSync } from "node:fs";
import http from "node:http";
import { parseArgs } from "node:util";
import Supercluster from "supercluster";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: "string", default: "0" },
    radius: { type: "string", default: "32" },
    extent: { type: "string", default: "256" },
    "min-zoom": { type: "string", default: "0" },
    "max-zoom": { type: "string", default: "16" },
  },
});

const started = performance.now();
const points = JSON.parse(readFileSync(positionals[0], "utf8"));
const index = new Supercluster({
  radius: Number(values.radius),
  extent: Number(values.extent),
  minZoom: Number(values["min-zoom"]),
  maxZoom: Number(values["max-zoom"]),
}).load(points.map((coordinates) => ({ type: "Feature", properties: null, geometry: { type: "Point", coordinates } })));
console.log(`indexed ${points.length} points in ${(performance.now() - started).toFixed(0)} ms`);

function answer(response, status, body) {
  const json = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(json) });
  response.end(json);
}

const server = http.createServer((request, response) => {
  const url = new URL(request.url, "http://localhost");
  const bbox = (url.searchParams.get("bbox") || "").split(",").map(Number);
  const zoom = Number(url.searchParams.get("zoom"));
  if (url.pathname !== "/clusters") return answer(response, 404, { error: "not found" });
  if (bbox.length !== 4 || bbox.some(Number.isNaN) || !Number.isInteger(zoom)) {
    return answer(response, 400, { error: "bbox=minlon,minlat,maxlon,maxlat and an integer zoom are required" });
  }
  const clusters = index.getClusters(bbox, zoom).map((feature) => ({
    lon: feature.geometry.coordinates[0],
    lat: feature.geometry.coordinates[1],
    count: feature.properties?.point_count ?? 1,
  }));
  answer(response, 200, { clusters, total: clusters.reduce((sum, c) => sum + c.count, 0) });
});
server.keepAliveTimeout = 60_000; // the bench keeps one connection open for the whole run
server.listen(Number(values.port), "127.0.0.1", () => console.log(`ready ${server.address().port}`));
