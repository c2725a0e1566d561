// Preloaded into a worker thread by scanWorkerNetwork.test.ts: any attempt to open a network
// connection or resolve a host name in that thread throws, so the worker would fail loudly.
const net = require('node:net');
const dns = require('node:dns');
const http = require('node:http');
const https = require('node:https');
const forbid = (what) => () => {
  throw new Error(`network use is forbidden in the scan worker: ${what}`);
};
net.Socket.prototype.connect = forbid('net.Socket.connect');
net.connect = forbid('net.connect');
net.createConnection = forbid('net.createConnection');
http.request = forbid('http.request');
http.get = forbid('http.get');
https.request = forbid('https.request');
https.get = forbid('https.get');
dns.lookup = forbid('dns.lookup');
globalThis.fetch = forbid('fetch');
