'use strict';

const inspector = require('node:inspector');

// One inspector session per capture, closed afterwards, so nothing stays enabled between
// captures. The callback form of post() exists on every supported Node version.
class InspectorSession {
  constructor() {
    this.session = new inspector.Session();
    this.session.connect();
  }

  post(method, params = {}) {
    return new Promise((resolve, reject) => {
      this.session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
    });
  }

  close() {
    this.session.disconnect();
  }
}

async function withSession(work) {
  const session = new InspectorSession();
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

module.exports = { withSession };
