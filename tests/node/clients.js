// The official Node clients against the emulator over HTTPS (driven by tests/test_tls_node.py).
// usage: node clients.js openapi|pop PORT [CA_FILE]
// Without CA_FILE the client trusts what Node trusts (NODE_EXTRA_CA_CERTS adds the emulator's CA);
// with it, the CA's PEM contents go where each client takes them (Config.ca; an https.Agent).
'use strict';
const fs = require('fs');
const https = require('https');

const [kind, port, caFile] = process.argv.slice(2);
const ak = 'LTAI5tDemoAlice00000001';
const sk = 'DemoAliceSecret0000000000000001';
const ca = caFile ? fs.readFileSync(caFile, 'utf8') : undefined;

async function openapi() {
  const OpenApi = require('@alicloud/openapi-client');
  const Util = require('@alicloud/tea-util');
  const client = new OpenApi.default(new OpenApi.Config({
    accessKeyId: ak, accessKeySecret: sk, endpoint: `127.0.0.1:${port}`, ...(ca ? { ca } : {}),
  }));
  const params = new OpenApi.Params({
    action: 'ListUserTenants', version: '2018-11-01', protocol: 'HTTPS', pathname: '/',
    method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  const res = await client.callApi(params, new OpenApi.OpenApiRequest({}),
    new Util.RuntimeOptions({ readTimeout: 10000, connectTimeout: 5000 }));
  return res.body;
}

async function pop() {
  const RPCClient = require('@alicloud/pop-core').RPCClient;
  const client = new RPCClient({
    accessKeyId: ak, accessKeySecret: sk, endpoint: `https://127.0.0.1:${port}`,
    apiVersion: '2018-11-01',
  });
  const opts = { method: 'POST', timeout: 10000 };
  if (ca) opts.agent = new https.Agent({ ca });
  return client.request('ListUserTenants', {}, opts);
}

(kind === 'pop' ? pop() : openapi()).then(
  (body) => { console.log(JSON.stringify(body)); },
  (err) => { console.log(JSON.stringify({ error: String(err && (err.code || err.message)) })); process.exitCode = 3; },
);
