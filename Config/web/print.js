// The review's print button: the browser's print dialog (the page's print style sheet lays it out for A4).
document.getElementById("print")?.addEventListener("click", () => window.print());
