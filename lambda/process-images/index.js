'use strict';
// The Lambda entry point (index.handler, as in the seed). The configuration is validated here, at cold
// start: a bad or missing variable fails the function's init with a ConfigError naming it, instead of
// NaN-sized avatars or a crash on the first upload.
const { createHandler } = require('./handler');

exports.handler = createHandler(process.env);
