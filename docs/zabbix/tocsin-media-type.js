// Tocsin: the script of a Zabbix "Webhook" media type (Zabbix 6.0 or later).
// It posts one event to POST /api/v1/ingest/zabbix in Tocsin's layout; the media type's
// parameters and the macros they hold are listed in docs/sources.md, section "Zabbix".
// Zabbix runs this as a function body (ES5, Duktape): `value` holds the parameters as JSON.

// A macro Zabbix could not resolve stays in the text ({EVENT.RECOVERY.ID} in a problem
// message) or reads *UNKNOWN*: such a parameter is left out of the body.
var UNRESOLVED = /^(\{[$#]?[A-Z][A-Z0-9_.]*\}|\*UNKNOWN\*)$/;

function param(params, name) {
  var value = params[name];
  if (typeof value !== 'string') return undefined;
  value = value.trim();
  return value === '' || UNRESOLVED.test(value) ? undefined : value;
}

// {EVENT.DATE} and {EVENT.TIME} ("2026.01.01", "12:00:00") carry no time zone. With the
// "timezone" parameter ("+02:00", "Z") it is appended; otherwise they are read in the local
// time zone of the Zabbix server, which runs this script.
function rfc3339(date, time, timezone) {
  var d = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(date || '');
  var t = /^(\d{2}):(\d{2}):(\d{2})$/.exec(time || '');
  if (!d || !t) return undefined;
  if (timezone) return d[1] + '-' + d[2] + '-' + d[3] + 'T' + time + timezone;
  var local = new Date(+d[1], +d[2] - 1, +d[3], +t[1], +t[2], +t[3]);
  return isNaN(local.getTime()) ? undefined : local.toISOString();
}

// {EVENT.TAGSJSON}: [{"tag": "service", "value": "db"}, ...].
function tags(json) {
  if (!json) return undefined;
  try {
    var list = JSON.parse(json);
    return Array.isArray(list) ? list : undefined;
  } catch (error) {
    Zabbix.log(4, '[Tocsin webhook] event_tags is not JSON, left out: ' + error);
    return undefined;
  }
}

function build(params) {
  var timezone = param(params, 'timezone');
  var zabbixUrl = param(params, 'zabbix_url');
  var eventId = param(params, 'event_id');
  var triggerId = param(params, 'trigger_id');
  return {
    event_id: eventId,
    event_value: param(params, 'event_value'),
    event_status: param(params, 'event_status'),
    event_source: param(params, 'event_source'),
    event_name: param(params, 'event_name'),
    event_severity: param(params, 'event_severity'),
    event_nseverity: param(params, 'event_nseverity'),
    event_opdata: param(params, 'event_opdata'),
    event_tags: tags(param(params, 'event_tags')),
    event_time: rfc3339(param(params, 'event_date'), param(params, 'event_time'), timezone),
    event_recovery_id: param(params, 'event_recovery_id'),
    event_recovery_time: rfc3339(
      param(params, 'event_recovery_date'),
      param(params, 'event_recovery_time'),
      timezone,
    ),
    event_ack: param(params, 'event_ack'),
    event_update_status: param(params, 'event_update_status'),
    event_url:
      zabbixUrl && triggerId && eventId
        ? zabbixUrl.replace(/\/+$/, '') +
          '/tr_events.php?triggerid=' +
          triggerId +
          '&eventid=' +
          eventId
        : undefined,
    host_name: param(params, 'host_name'),
    host_host: param(params, 'host_host'),
    host_ip: param(params, 'host_ip'),
    trigger_id: triggerId,
    trigger_description: param(params, 'trigger_description'),
    subject: param(params, 'subject'),
    message: param(params, 'message'),
  };
}

function send(params, body) {
  var url = param(params, 'tocsin_url');
  var token = param(params, 'tocsin_token');
  if (!url) throw 'the "tocsin_url" parameter is empty';
  if (!token)
    throw 'no token: fill "Send to" in the user\'s media, or the "tocsin_token" parameter';
  var request = new HttpRequest();
  var proxy = param(params, 'http_proxy');
  if (proxy) request.setProxy(proxy);
  request.addHeader('Content-Type: application/json');
  request.addHeader('Authorization: Bearer ' + token);
  var response = request.post(url, JSON.stringify(body));
  var status = request.getStatus();
  if (status < 200 || status >= 300) throw 'Tocsin answered HTTP ' + status + ': ' + response;
  return response;
}

try {
  var params = JSON.parse(value);
  var body = build(params);
  Zabbix.log(4, '[Tocsin webhook] sending ' + JSON.stringify(body));
  Zabbix.log(4, '[Tocsin webhook] answer ' + send(params, body));
  return 'OK';
} catch (error) {
  Zabbix.log(3, '[Tocsin webhook] notification failed: ' + error);
  throw 'Tocsin notification failed: ' + error;
}
