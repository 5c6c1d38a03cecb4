// Runs the library's TypeScript sources in a plain Node.js process, for a checkout without a build: each `.ts` file
// required is transpiled on the fly by esbuild (a dev dependency), types dropped, no type check. The command's
// worker processes (`synth --jobs`) use it when the command itself runs from the sources (the tests): it starts in
// well under a second where ts-node's transpiler took about 3 s per worker.
'use strict';
const { transformSync } = require('esbuild');
const { readFileSync } = require('fs');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    loader: 'ts',
    format: 'cjs',
    target: 'node22',
    sourcemap: 'inline',
    sourcefile: filename,
  });
  module._compile(code, filename);
};
