// SPDX-License-Identifier: ISC
// Reads the cached feed "news" as a web application does: never waits for
// the origin; a copy older than 5 minutes is refreshed in the background.
const { execFileSync } = require('child_process');

function feedcache(...args) {
  try {
    return execFileSync('feedcache', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  } catch (e) {
    return null;
  }
}

const body = feedcache('get', 'news', '--max-age', '5m');
const meta = feedcache('get', 'news', '--meta');
if (body === null || meta === null) {
  console.log('news is not available yet');
  process.exit(1);
}
process.stdout.write(body);
const checked = new Date(JSON.parse(meta).checked * 1000);
console.log('as of ' + checked.toISOString().replace('T', ' ').slice(0, 19) + ' UTC');
