export { PROJECT_DIR } from "../../../runtime/projectDir";
