'use strict';
// A thin driver for the official Mattermost TypeScript client (@mattermost/client).
//
// pytest owns the cases, the roles and the expectations; this script only makes the calls.
// It reads JSON lines on stdin and answers each with one JSON line on stdout:
//
//   {"setup": {"url": URL, "tokens": {ROLE: TOKEN, ...}}}     first line: one Client4 per role
//   {"id": N, "role": ROLE, "method": NAME, "args": [...]}    then: one client call each
//
// An answer is {"id": N, "outcome": "value", "value": ...} when the call resolved,
// {"id": N, "outcome": "client_error", "error": {...}} when it rejected with a ClientError, and
// {"id": N, "outcome": "exception", "error": {...}} for anything else. "http" adds the status
// and Content-Type of the last response the call received, for failure messages only.
//
// Tokens arrive on stdin only (never on the command line) and are never printed.
// The client's modules come from MMCONFORM_CLIENT_MODULES (a node_modules folder).

const path = require('path');
const readline = require('readline');

const modules = process.env.MMCONFORM_CLIENT_MODULES;
if (!modules) {
    process.stderr.write('MMCONFORM_CLIENT_MODULES is not set\n');
    process.exit(2);
}
const {Client4, ClientError} = require(path.join(modules, '@mattermost', 'client'));

// What the last response looked like (calls run one at a time).
let lastHttp = null;
const realFetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
    const response = await realFetch(...args);
    lastHttp = {status: response.status, content_type: response.headers.get('content-type')};
    return response;
};

const clients = new Map();

function setup({url, tokens}) {
    // 'anonymous' is a client without a token.
    for (const role of ['anonymous', ...Object.keys(tokens || {})]) {
        const client = new Client4();
        client.setUrl(url);
        client.setIncludeCookies(false);
        // The web app turns client logging on from the client config; the suite always does.
        client.setEnableLogging(true);
        if (role !== 'anonymous') {
            client.setToken(tokens[role]);
        }
        clients.set(role, client);
    }
}

// Arguments that JSON cannot carry: {"$file": {"name", "type", "base64"}} becomes a File.
function decodeArg(arg) {
    if (arg && typeof arg === 'object' && !Array.isArray(arg) && arg.$file) {
        const {name, type, base64} = arg.$file;
        return new File([Buffer.from(base64, 'base64')], name, {type: type || ''});
    }
    return arg;
}

// Values that JSON cannot carry are described instead of dropped.
function encodeValue(value) {
    if (value === undefined) {
        return {$undefined: true};
    }
    if (value instanceof Blob) {
        return {$blob: {type: value.type, size: value.size}};
    }
    if (value && typeof value === 'object' && value.response instanceof Response) {
        // ClientResponse<T> from doFetchWithResponse
        return {$client_response: {status: value.response.status, data: encodeValue(value.data)}};
    }
    return value;
}

async function call({id, role, method, args}) {
    lastHttp = null;
    const client = clients.get(role);
    if (!client) {
        return {id, outcome: 'exception', error: {name: 'DriverError', message: `no client for role ${role}`}};
    }
    if (typeof client[method] !== 'function') {
        return {id, outcome: 'exception', error: {name: 'DriverError', message: `Client4 has no method ${method}`}};
    }
    try {
        const value = await client[method](...(args || []).map(decodeArg));
        return {id, outcome: 'value', value: encodeValue(value), http: lastHttp};
    } catch (err) {
        if (err instanceof ClientError) {
            // Exactly what the client exposes to its caller.
            const error = {
                message: err.message,
                status_code: err.status_code === undefined ? null : err.status_code,
                server_error_id: err.server_error_id === undefined ? null : err.server_error_id,
            };
            return {id, outcome: 'client_error', error, http: lastHttp};
        }
        const error = {name: (err && err.name) || 'Error', message: String((err && err.message) || err)};
        return {id, outcome: 'exception', error, http: lastHttp};
    }
}

// One line in, one line out, in order.
const input = readline.createInterface({input: process.stdin, terminal: false});
let queue = Promise.resolve();
input.on('line', (line) => {
    queue = queue.then(async () => {
        let request;
        try {
            request = JSON.parse(line);
        } catch (err) {
            process.stdout.write(JSON.stringify({id: null, outcome: 'exception', error: {name: 'DriverError', message: 'bad JSON line'}}) + '\n');
            return;
        }
        if (request.setup) {
            setup(request.setup);
            process.stdout.write(JSON.stringify({id: request.id === undefined ? null : request.id, outcome: 'ready'}) + '\n');
            return;
        }
        process.stdout.write(JSON.stringify(await call(request)) + '\n');
    });
});
input.on('close', () => {
    queue.then(() => process.exit(0));
});
