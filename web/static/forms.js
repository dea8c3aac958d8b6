// Task forms: the required mark of a field required only under a condition (a reason needed only
// when refusing) is shown while the condition holds. No inline scripts: the CSP forbids them.
(function () {
  function current(form, name) {
    var ticked = form.querySelector('input[name="' + name + '"]:checked');
    if (ticked) { return ticked.value; }
    var field = form.querySelector('select[name="' + name + '"], input[name="' + name + '"]:not([type=radio]):not([type=checkbox])');
    return field ? field.value : "";
  }
  function update(form) {
    form.querySelectorAll("[data-required-when]").forEach(function (mark) {
      var when = JSON.parse(mark.getAttribute("data-required-when"));
      var holds = when.values.indexOf(current(form, when.field)) !== -1;
      mark.hidden = holds === when.negate;
    });
  }
  document.querySelectorAll("form.task-form").forEach(function (form) {
    update(form);
    form.addEventListener("change", function () { update(form); });
  });
})();
