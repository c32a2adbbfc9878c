// Check-in (forms with data-geolocate): before the form goes, ask the browser once for
// the position (the browser asks the rep's permission) and put it in the hidden
// latitude / longitude / accuracy fields. Denied, unavailable or too slow: the form
// goes without a location. Nothing is ever tracked: this runs only on the tap.
(() => {
  const GIVE_UP_MS = 15000;

  const submitOnce = (form, submitter) => {
    if (form.dataset.located) return;
    form.dataset.located = "1";
    if (submitter) submitter.disabled = false;
    form.requestSubmit(submitter || undefined);
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches || !form.matches("form[data-geolocate]") || form.dataset.located) return;
    if (!("geolocation" in navigator)) return;
    event.preventDefault();
    const submitter = event.submitter;
    if (submitter) submitter.disabled = true;
    const status = form.querySelector(".geo-status");
    if (status) status.textContent = form.dataset.locatingText || "";
    // Chrome's own timeout starts only once the rep has answered the permission prompt.
    const giveUp = window.setTimeout(() => submitOnce(form, submitter), GIVE_UP_MS);
    navigator.geolocation.getCurrentPosition(
      (position) => {
        window.clearTimeout(giveUp);
        const { latitude, longitude, accuracy } = position.coords;
        form.elements.latitude.value = latitude.toFixed(6);
        form.elements.longitude.value = longitude.toFixed(6);
        form.elements.accuracy.value = Math.round(accuracy);
        submitOnce(form, submitter);
      },
      () => {
        window.clearTimeout(giveUp);
        submitOnce(form, submitter);
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  });
})();
