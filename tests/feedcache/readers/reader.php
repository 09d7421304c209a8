<?php
// SPDX-License-Identifier: ISC
// Reads the cached feed "news" as a web application does: never waits for
// the origin; a copy older than 5 minutes is refreshed in the background.
function feedcache(array $args): ?string
{
    $p = proc_open(array_merge(['feedcache'], $args), [1 => ['pipe', 'w']], $pipes);
    $out = stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    return proc_close($p) === 0 ? $out : null;
}

$body = feedcache(['get', 'news', '--max-age', '5m']);
$meta = json_decode(feedcache(['get', 'news', '--meta']) ?? 'null', true);
if ($body === null || $meta === null) {
    echo "news is not available yet\n";
    exit(1);
}
echo $body;
echo 'as of ', gmdate('Y-m-d H:i:s', $meta['checked']), " UTC\n";
