// Case drawings (the diagram and the Gantt chart of each process): a drawing opens on the steps in
// progress at the width of its box; the buttons show the whole drawing or those steps again, and
// zoom (the box, never the page, then scrolls to pan). No inline scripts: the CSP forbids them.
//
// A diagram carries two views, `data-whole` and `data-focus` (viewBoxes: web/svg/diagram.py). A
// Gantt chart keeps its one view, so that its labels and time axis stay with the bars; its
// `data-focus` is the box of the bars in progress (web/svg/gantt.py), which the box scrolls to.
// Its time axis (`g.axis-ticks`) stays at the top of the box as the box scrolls down the rows.
(function () {
  function numbers(text) { return text ? text.split(/[\s,]+/).map(parseFloat) : null; }

  // Scroll `box` so that the point (x, y) of the drawing, in its own units, is in the middle.
  function centreOn(box, svg, x, y) {
    var view = numbers(svg.getAttribute("viewBox"));
    var k = svg.getBoundingClientRect().width / view[2];
    box.scrollLeft = (x - view[0]) * k - box.clientWidth / 2;
    box.scrollTop = (y - view[1]) * k - box.clientHeight / 2;
  }

  function setup(tools) {
    var box = document.getElementById(tools.getAttribute("data-for"));
    var svg = box && box.querySelector("svg[viewBox]");
    var views = svg && svg.hasAttribute("data-whole");
    if (!svg || (!views && !svg.querySelector("g.row"))) { tools.hidden = true; return; }
    var scale = 1;
    function setScale(value) {
      scale = value;
      svg.style.width = (scale * 100) + "%";
      svg.style.maxHeight = scale > 1 ? "none" : "";
    }
    function show(view) {
      setScale(1);
      if (views) {
        svg.setAttribute("viewBox", svg.getAttribute(view === "whole" ? "data-whole" : "data-focus"));
        return;
      }
      var focus = numbers(svg.getAttribute("data-focus"));
      if (view === "focus" && focus) {
        centreOn(box, svg, focus[0] + focus[2] / 2, focus[1] + focus[3] / 2);
      } else {
        box.scrollLeft = 0;
        box.scrollTop = 0;
      }
    }
    function zoom(factor) {
      // Keep the middle of what is shown in the middle.
      var cx = (box.scrollLeft + box.clientWidth / 2) / box.scrollWidth;
      var cy = (box.scrollTop + box.clientHeight / 2) / box.scrollHeight;
      setScale(Math.min(8, Math.max(1, scale * factor)));
      box.scrollLeft = cx * box.scrollWidth - box.clientWidth / 2;
      box.scrollTop = cy * box.scrollHeight - box.clientHeight / 2;
    }
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      if (button.hasAttribute("data-view")) {
        show(button.getAttribute("data-view"));
      } else if (button.hasAttribute("data-zoom")) {
        zoom(parseFloat(button.getAttribute("data-zoom")));
      }
    });
    var axis = !views && svg.querySelector("g.axis-ticks");
    if (axis) {
      box.addEventListener("scroll", function () {
        var k = svg.getBoundingClientRect().width / numbers(svg.getAttribute("viewBox"))[2];
        axis.setAttribute("transform", "translate(0 " + (box.scrollTop / k) + ")");
      });
    }
    if (!views) { show("focus"); }
  }

  document.querySelectorAll(".diagram-tools").forEach(setup);
})();
