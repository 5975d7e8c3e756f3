import type { ServiceImpl } from "@connectrpc/connect";
import type { OwnerAdmin } from "../admin/owner-admin.js";
import { OwnerService } from "../../gen/portcullis/v1/owners_pb.js";
import { callerCredential } from "./caller-credential.js";
import { ownerMessage } from "./messages.js";

export function createOwnerService(owners: OwnerAdmin): ServiceImpl<typeof OwnerService> {
  return {
    async getOwner(request, context) {
      return { owner: ownerMessage(await owners.get(callerCredential(context), request.owner)) };
    },
    async deactivateOwner(request, context) {
      return { owner: ownerMessage(await owners.deactivate(callerCredential(context), request.owner)) };
    },
    async reactivateOwner(request, context) {
      return { owner: ownerMessage(await owners.reactivate(callerCredential(context), request.owner)) };
    },
  };
}
