'use strict';

const crypto = require('node:crypto');

// Both sides are hashed first so the comparison always sees equal lengths and takes the
// same time whatever the caller sent.
function digest(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

function bearerToken(header) {
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

function makeAuthorizer(token) {
  const expected = digest(token);
  return (header) => {
    const offered = bearerToken(header);
    if (offered === null) return false;
    return crypto.timingSafeEqual(digest(offered), expected);
  };
}

module.exports = { makeAuthorizer };
