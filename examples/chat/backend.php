<?php
// The browser chat of examples/chat/, backend in PHP 8 (php-cli, no extension beyond Debian's).
//
//   examples/chat/run php            # this + wsgated --config examples/chat/gateway.yaml
//   php -S 127.0.0.1:8000 examples/chat/backend.php      # the backend alone (router script)
//
// One HTTP server on 127.0.0.1:8000 (the port is on php's command line) that is three things:
//   GET  /, /chat.js      the page (examples/chat/public/)
//   GET  /config.json     {"ws_url": CHAT_WS_URL}: where the page connects
//   GET  /auth            wsgated's auth hook (docs/auth.md): the user name from ?name= in
//                         WSGate-Path, else the chat_name cookie; 1-32 of [A-Za-z0-9_.-], else 401
//   POST /events          wsgated's http backend (docs/backends.md): connect, message, disconnect
// On connect and disconnect it counts the room (GET /v1/rooms/room:ROOM on the control API) and
// publishes {"type":"presence",…} to the room; a text message becomes {"type":"chat",…}
// published to the whole room, sender included. Environment: WSGATED_ADMIN_URL
// (http://127.0.0.1:9090), WSGATED_ADMIN_TOKEN (the gateway's admin.token), CHAT_WS_URL.
// examples/chat/backend.py and backend.js do the same.

const NAME = '/^[A-Za-z0-9_.-]{1,32}$/D';  // user and room names
const MAX_TEXT = 500;  // characters in one chat line
const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE;
const FILES = [
    '/' => ['index.html', 'text/html; charset=utf-8'],
    '/index.html' => ['index.html', 'text/html; charset=utf-8'],
    '/chat.js' => ['chat.js', 'text/javascript; charset=utf-8'],
];

$admin = rtrim(getenv('WSGATED_ADMIN_URL') ?: 'http://127.0.0.1:9090', '/');
$token = getenv('WSGATED_ADMIN_TOKEN') ?: '';

// One control API call: the decoded JSON answer, or null (logged) when it failed.
function control(string $method, string $path, ?string $body = null): mixed
{
    global $admin, $token;
    $headers = "Authorization: Bearer $token\r\nConnection: close\r\n";  // read up to EOF
    if ($body !== null) {
        $headers .= "Content-Type: text/plain; charset=utf-8\r\n";  // text/*: a text frame
    }
    $ctx = stream_context_create(['http' => [
        'method' => $method, 'header' => $headers, 'content' => $body ?? '',
        'timeout' => 5, 'ignore_errors' => true,
    ]]);
    $answer = @file_get_contents($admin . $path, false, $ctx);
    $status = $http_response_header[0] ?? 'no answer';  // set by file_get_contents
    if ($answer === false || !preg_match('#^HTTP/\S+ 2\d\d#', $status)) {
        error_log("$method $path: $status " . substr((string)$answer, 0, 200));
        return null;
    }
    return json_decode($answer, true);
}

function publish(string $room, array $message): void
{
    control('POST', '/v1/rooms/' . rawurlencode($room) . '/messages', json_encode($message, JSON_FLAGS));
}

// Presence: count, then publish, one event at a time per room (a lock file per room, for when
// PHP_CLI_SERVER_WORKERS runs several processes), so that the last count a room hears was
// taken after the last join or leave.
function push_presence(string $room, string $param, string $event, string $user): void
{
    $lock = fopen(sys_get_temp_dir() . '/wsgated-chat-' . md5($room) . '.lock', 'c');
    if ($lock) {
        flock($lock, LOCK_EX);
    }
    $info = control('GET', '/v1/rooms/' . rawurlencode($room));
    if (is_array($info)) {
        publish($room, ['type' => 'presence', 'room' => $param, 'count' => $info['members'],
                        'event' => $event, 'user' => $user]);
    }
    if ($lock) {
        fclose($lock);  // and unlocked
    }
}

function answer(int $status, string $data = '', string $type = 'text/plain; charset=utf-8',
                array $headers = []): void
{
    http_response_code($status);
    foreach ($headers as $name => $value) {
        header("$name: $value");
    }
    if ($status !== 204) {  // a 204 has no body and no Content-Length (RFC 9110)
        header("Content-Type: $type");
        header('Content-Length: ' . strlen($data));
        header('Cache-Control: no-store');
        echo $data;
    }
}

// The hook: a GET with WSGate-Path (/chat/ROOM?name=…) and the client's Cookie.
function auth(): void
{
    $target = $_SERVER['HTTP_WSGATE_PATH'] ?? '/';
    $path = parse_url($target, PHP_URL_PATH) ?: '/';
    $room = rawurldecode(basename($path));
    parse_str(parse_url($target, PHP_URL_QUERY) ?? '', $query);
    $name = $query['name'] ?? null;
    if ($name === null) {
        foreach (explode(';', $_SERVER['HTTP_COOKIE'] ?? '') as $part) {
            [$key, $value] = array_pad(explode('=', trim($part), 2), 2, '');
            if ($key === 'chat_name') {
                $name = rawurldecode($value);
            }
        }
    }
    if (!preg_match(NAME, $room)) {
        answer(400, "bad room name\n");
    } elseif (!is_string($name) || !preg_match(NAME, $name)) {
        answer(401, "a name of 1 to 32 letters, digits, '_', '-' or '.' is needed\n",
               headers: ['WWW-Authenticate' => 'Name realm="chat"']);
    } else {
        answer(200, json_encode(['user' => $name], JSON_FLAGS), 'application/json');
    }
}

function on_event(): void
{
    $event = $_SERVER['HTTP_WSGATE_EVENT'] ?? '';
    $user = ($_SERVER['HTTP_WSGATE_USER'] ?? '') ?: substr($_SERVER['HTTP_WSGATE_CONNECTION_ID'] ?? '', 0, 8);
    $params = json_decode($_SERVER['HTTP_WSGATE_PARAMS'] ?? '{}', true) ?: [];
    $param = $params['room'] ?? 'lobby';
    $room = "room:$param";  // the route's rooms: ["room:{room}"] joined it already
    if ($event === 'connect') {
        push_presence($room, $param, 'join', $user);
        answer(200, json_encode(['type' => 'welcome', 'user' => $user, 'room' => $param], JSON_FLAGS));
        return;
    }
    if ($event === 'disconnect') {
        push_presence($room, $param, 'leave', $user);
    } elseif ($event === 'message' && str_starts_with($_SERVER['CONTENT_TYPE'] ?? '', 'text/')) {
        $text = trim(file_get_contents('php://input'));
        if (preg_match_all('/./su', $text) > MAX_TEXT) {  // characters, without mbstring
            answer(200, json_encode(['type' => 'error', 'text' => 'not sent: over ' . MAX_TEXT . ' characters']));
            return;
        }
        if ($text !== '') {
            $now = DateTime::createFromFormat('U.u', sprintf('%.6F', microtime(true)));
            publish($room, ['type' => 'chat', 'user' => $user, 'text' => $text,
                            'time' => $now->format('Y-m-d\TH:i:s.v\Z')]);
        }
    }
    answer(204);  // published (or binary, or empty): no reply
}

$method = $_SERVER['REQUEST_METHOD'];
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($method === 'GET' && isset(FILES[$path])) {
    [$file, $type] = FILES[$path];
    answer(200, file_get_contents(__DIR__ . "/public/$file"), $type);
} elseif ($method === 'GET' && $path === '/config.json') {
    $ws = getenv('CHAT_WS_URL') ?: 'ws://127.0.0.1:8080/chat/{room}';
    answer(200, json_encode(['ws_url' => $ws], JSON_FLAGS), 'application/json');
} elseif ($method === 'GET' && $path === '/auth') {
    auth();
} elseif ($method === 'POST' && $path === '/events') {
    on_event();
} else {
    answer(404, "not found\n");
}
