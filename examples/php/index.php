<?php
// A chat room behind wsgated's http backend (docs/backends.md), plain PHP, no extensions.
//
//   php -S 127.0.0.1:8000 examples/php/index.php     # then: wsgated --config config/chat.yaml
//
// connect: join room:<room>, say welcome; message: publish "<who>: <text>" to the others in the
// room through the control API; "/quit": close 4000. Environment: WSGATED_ADMIN_URL
// (http://127.0.0.1:9090), WSGATED_ADMIN_TOKEN (dev-token, as config/chat.yaml).

$admin = rtrim(getenv('WSGATED_ADMIN_URL') ?: 'http://127.0.0.1:9090', '/');
$token = getenv('WSGATED_ADMIN_TOKEN') ?: 'dev-token';

function publish(string $room, string $text, string $exclude): void
{
    global $admin, $token;
    $url = "$admin/v1/rooms/" . rawurlencode($room) . '/messages?exclude=' . rawurlencode($exclude);
    $ctx = stream_context_create(['http' => [
        'method' => 'POST', 'content' => $text, 'timeout' => 5, 'ignore_errors' => true,
        'header' => "Authorization: Bearer $token\r\nContent-Type: text/plain; charset=utf-8\r\n"
            . "Connection: close\r\n",  // PHP's http wrapper reads the answer up to EOF
    ]]);
    $body = @file_get_contents($url, false, $ctx);
    $status = $http_response_header[0] ?? 'no answer';  // set by file_get_contents
    if ($body === false || !preg_match('#^HTTP/\S+ 2\d\d#', $status)) {
        error_log("publish to $room failed: $status $body");
    }
}

function answer(int $status, string $text = '', array $headers = []): void
{
    http_response_code($status);
    foreach ($headers as $name => $value) {
        header("$name: $value");
    }
    if ($status !== 204) {  // a 204 has no body and no Content-Length (RFC 9110)
        header('Content-Type: text/plain; charset=utf-8');
        header('Content-Length: ' . strlen($text));
        echo $text;
    }
}

$event = $_SERVER['HTTP_WSGATE_EVENT'] ?? '';
$conn = $_SERVER['HTTP_WSGATE_CONNECTION_ID'] ?? '';
$who = ($_SERVER['HTTP_WSGATE_USER'] ?? '') ?: $conn;  // the header is absent when anonymous
$params = json_decode($_SERVER['HTTP_WSGATE_PARAMS'] ?? '{}', true) ?: [];
$param = $params['room'] ?? 'lobby';
$room = "room:$param";

if ($event === 'connect') {
    answer(200, "welcome to $param, $who", ['WSGate-Join' => $room]);
} elseif ($event === 'message' && str_starts_with($_SERVER['CONTENT_TYPE'] ?? '', 'text/')) {
    $text = file_get_contents('php://input');
    if (trim($text) === '/quit') {
        answer(204, '', ['WSGate-Close' => '4000 bye']);
    } else {
        publish($room, "$who: $text", $conn);
        answer(204);
    }
} else {
    answer(204);  // binary, disconnect: no reply
}
