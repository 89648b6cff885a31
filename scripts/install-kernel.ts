// Registers the project's tslab kernel in .jupyter/ (project-local; see environment.md).
import { installKernel, kernelSpecFile } from "../lib/report";

installKernel();
console.log(`kernel "tslab" registered: ${kernelSpecFile()}`);
