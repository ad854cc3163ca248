// Preload (NODE_OPTIONS=--require <this file>): resolve every `*.localhost` name to the loopback address,
// as RFC 6761 §6.3 says resolvers should. These machines' resolvers do not, so Azurite's production-style
// URLs (http://devstoreaccount1.blob.localhost:<port>/…, built from the datastore's own fields the way
// azure-ai-ml does) would not resolve. Test-only: it is loaded through the environment the tests give
// child processes (AzureInABox.childEnv()); shipped code knows nothing about it.
'use strict';
const dns = require('node:dns');

function isLocalhostName(h) {
  if (typeof h !== 'string') return false;
  const n = h.toLowerCase().replace(/\.$/, '');
  return n === 'localhost' || n.endsWith('.localhost');
}

function answer(options) {
  const o = typeof options === 'number' ? { family: options } : options || {};
  const family = o.family === 6 ? 6 : 4;
  const address = family === 6 ? '::1' : '127.0.0.1';
  return { all: !!o.all, address, family };
}

const origLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (!isLocalhostName(hostname)) return origLookup.call(dns, hostname, options, callback);
  const a = answer(options);
  process.nextTick(() =>
    a.all ? callback(null, [{ address: a.address, family: a.family }]) : callback(null, a.address, a.family),
  );
  return {};
};

const origPromiseLookup = dns.promises.lookup;
dns.promises.lookup = async function lookup(hostname, options) {
  if (!isLocalhostName(hostname)) return origPromiseLookup.call(dns.promises, hostname, options);
  const a = answer(options);
  return a.all ? [{ address: a.address, family: a.family }] : { address: a.address, family: a.family };
};
