// First step of `npm test`: fails in a second instead of after the type check.
import { exitUnlessRedisServerInstalled } from "./redis-binary.js";

exitUnlessRedisServerInstalled();
