// Atrium's only script. A button marked data-webauthn="create" registers a
// security key or built-in authenticator, one marked "get" signs in with
// one: the button's data-options are the server's ceremony options, the
// browser's answer goes into the form's "credential" field, and the form is
// sent to the button's action.
"use strict";
(() => {
  const bytes = (s) => {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer;
  };
  const text = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: bytes(c.id) }));

  const creation = (o) => ({ ...o, challenge: bytes(o.challenge), user: { ...o.user, id: bytes(o.user.id) },
    excludeCredentials: withIds(o.excludeCredentials) });
  const request = (o) => ({ ...o, challenge: bytes(o.challenge), allowCredentials: withIds(o.allowCredentials) });

  const serialize = (cred) => {
    const r = cred.response;
    const out = { id: cred.id, rawId: text(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults(), response: { clientDataJSON: text(r.clientDataJSON) } };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      if (r.userHandle) out.response.userHandle = text(r.userHandle);
    }
    return out;
  };

  for (const button of document.querySelectorAll("button[data-webauthn]")) {
    button.addEventListener("click", async (event) => {
      event.preventDefault();
      const form = button.form;
      const status = form.querySelector("[data-webauthn-status]");
      const say = (msg) => { if (status) status.textContent = msg; };
      if (!window.PublicKeyCredential) {
        say("This browser cannot use security keys. Use an authenticator app instead.");
        return;
      }
      button.disabled = true;
      try {
        const options = JSON.parse(button.dataset.options);
        const publicKey = options.publicKey || options;
        say("Follow your browser's prompt to use your security key.");
        const cred = button.dataset.webauthn === "create"
          ? await navigator.credentials.create({ publicKey: creation(publicKey) })
          : await navigator.credentials.get({ publicKey: request(publicKey) });
        form.elements.credential.value = JSON.stringify(serialize(cred));
        // Without a formaction of its own, formAction would be the page's URL.
        if (button.hasAttribute("formaction")) form.action = button.formAction;
        form.submit();
      } catch (err) {
        say("The security key step did not finish (" + err.name + "). Try again.");
        button.disabled = false;
      }
    });
  }
})();
