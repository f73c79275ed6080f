/**
 * /static/webauthn.js, the passkey page's script (the CSP allows scripts of 'self' only, none inline):
 * on the button's click it reads the ceremony's options from the form, converts their base64url
 * fields for navigator.credentials.create() or .get(), and posts the answer back as JSON in the
 * form's `credential` field, in the shape @simplewebauthn/server reads. A refusal or a missing API is
 * shown in the page's alert, and the button can be pressed again.
 */

export const WEBAUTHN_SCRIPT = `(function () {
  'use strict';
  var form = document.getElementById('webauthn-form');
  var button = document.getElementById('webauthn-start');
  var message = document.getElementById('webauthn-error');
  if (!form || !button || !message) return;
  function bytes(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) base64 += '=';
    var raw = atob(base64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function text(buffer) {
    var view = new Uint8Array(buffer), raw = '';
    for (var i = 0; i < view.length; i++) raw += String.fromCharCode(view[i]);
    return btoa(raw).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function show(words) {
    message.textContent = words;
    message.hidden = false;
    button.disabled = false;
  }
  button.addEventListener('click', function () {
    if (!window.PublicKeyCredential || !navigator.credentials) return show('This browser cannot use passkeys. Use another method below.');
    var create = form.getAttribute('data-webauthn-mode') === 'create';
    var options = JSON.parse(form.getAttribute('data-webauthn-options'));
    options.challenge = bytes(options.challenge);
    if (create) options.user.id = bytes(options.user.id);
    (options.excludeCredentials || options.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    button.disabled = true;
    message.hidden = true;
    var ceremony = create ? navigator.credentials.create({ publicKey: options }) : navigator.credentials.get({ publicKey: options });
    ceremony.then(function (credential) {
      var r = credential.response;
      var answer = { id: credential.id, rawId: text(credential.rawId), type: credential.type,
        clientExtensionResults: credential.getClientExtensionResults(), response: { clientDataJSON: text(r.clientDataJSON) } };
      if (credential.authenticatorAttachment) answer.authenticatorAttachment = credential.authenticatorAttachment;
      if (create) {
        answer.response.attestationObject = text(r.attestationObject);
        if (r.getTransports) answer.response.transports = r.getTransports();
      } else {
        answer.response.authenticatorData = text(r.authenticatorData);
        answer.response.signature = text(r.signature);
        if (r.userHandle) answer.response.userHandle = text(r.userHandle);
      }
      document.getElementById('webauthn-credential').value = JSON.stringify(answer);
      form.submit();
    }, function (error) {
      show(error && error.name === 'NotAllowedError'
        ? 'The passkey was not used (cancelled or timed out). Press the button to try again.'
        : 'The passkey could not be used' + (error && error.message ? ': ' + error.message : '.'));
    });
  });
})();
`;
